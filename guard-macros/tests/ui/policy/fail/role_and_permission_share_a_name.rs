guard_axum::policy! {
    roles {
        viewer: [view_reports],
        admin: viewer + [admin],
    }
}

fn main() {}
