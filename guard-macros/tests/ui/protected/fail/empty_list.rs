use guard_axum::protected;

guard_axum::policy! {
    roles { admin: [manage_keys] }
}

#[protected(roles = [])]
async fn page() {}

fn main() {}
