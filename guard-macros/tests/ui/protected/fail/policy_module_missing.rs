use guard_axum::protected;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

#[protected(policy = crate::auth, roles = "admin")]
async fn page() {}

fn main() {}
