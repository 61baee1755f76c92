use guard_axum::protected;

#[protected(check = is_owner)]
async fn page() {}

fn main() {}
