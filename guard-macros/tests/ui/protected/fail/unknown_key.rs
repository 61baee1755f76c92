use guard_axum::protected;

#[protected(role = "admin")]
async fn page() {}

fn main() {}
