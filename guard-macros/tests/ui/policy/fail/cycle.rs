guard_axum::policy! {
    roles {
        a: c + [one],
        b: a + [two],
        c: b + [three],
    }
}

fn main() {}
