use guard_axum::protected;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        admin: viewer + [manage_keys],
    }
}

#[protected(roles = ["admin", "veiwer"])]
async fn page() {}

fn main() {}
