use guard_axum::protected;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        admin: viewer + [manage_keys],
    }
}

#[protected(permissions = "view_report")]
async fn reports() {}

fn main() {}
