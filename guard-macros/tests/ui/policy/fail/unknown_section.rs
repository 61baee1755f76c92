guard_axum::policy! {
    role {
        viewer: [view_reports],
    }
}

fn main() {}
