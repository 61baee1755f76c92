guard_axum::policy! {
    roles {
        admin: [manage_keys],
        admin: [view_reports],
    }
}

fn main() {}
