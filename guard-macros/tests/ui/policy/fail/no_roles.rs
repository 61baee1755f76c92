guard_axum::policy! {
    permissions { view_reports }
}

fn main() {}
