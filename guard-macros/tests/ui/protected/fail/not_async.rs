use guard_axum::protected;

#[protected]
fn page() {}

fn main() {}
