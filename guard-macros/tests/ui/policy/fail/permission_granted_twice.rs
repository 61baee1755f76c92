guard_axum::policy! {
    roles {
        viewer: [view_reports, view_reports],
    }
}

fn main() {}
