use guard_axum::protected;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

#[protected(roles = "admin")]
struct Page;

fn main() {}
