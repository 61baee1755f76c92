// The policy is declared in a module, but the attribute looks at the crate root.
use guard_axum::protected;

mod auth {
    guard_axum::policy! {
        roles { admin: [manage_keys] }
    }
}

#[protected(roles = "admin")]
async fn page() {}

fn main() {}
