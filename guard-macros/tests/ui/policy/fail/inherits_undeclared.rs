guard_axum::policy! {
    roles {
        viewer: [view_reports],
        admin: veiwer + [manage_keys],
    }
}

fn main() {}
