guard_axum::policy! {
    permissions { view_reports, edit_reports, view_reports }
    roles {
        viewer: [view_reports],
    }
}

fn main() {}
