use guard_axum::protected;

#[protected(any())]
async fn page() {}

fn main() {}
