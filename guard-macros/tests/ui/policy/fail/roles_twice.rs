guard_axum::policy! {
    roles { viewer: [view_reports] }
    roles { admin: [manage_keys] }
}

fn main() {}
