use guard_axum::api_key;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

#[api_key(permissions = "manage_key")]
async fn page() {}

fn main() {}
