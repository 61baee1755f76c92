use guard_axum::protected;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

struct Pages;

impl Pages {
    #[protected(roles = "admin")]
    async fn admin_page(&self) {}
}

fn main() {}
