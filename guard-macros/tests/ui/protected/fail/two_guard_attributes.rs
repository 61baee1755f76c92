use guard_axum::{api_key, protected};

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

#[protected(roles = "admin")]
#[api_key]
async fn page() {}

fn main() {}
