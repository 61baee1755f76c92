use guard_axum::protected;

#[protected(crate = guard_axum)]
async fn page() {}

fn main() {}
