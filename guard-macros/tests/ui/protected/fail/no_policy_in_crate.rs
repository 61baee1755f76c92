use guard_axum::protected;

#[protected(roles = "admin")]
async fn page() {}

fn main() {}
