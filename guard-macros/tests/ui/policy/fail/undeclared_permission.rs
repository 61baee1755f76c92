guard_axum::policy! {
    permissions { view_reports, manage_keys }
    roles {
        admin: [manage_key],
    }
}

fn main() {}
