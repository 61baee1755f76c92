use guard_axum::protected;

fn is_owner(name: &str) -> bool {
    name == "alice"
}

#[protected(check = is_owner)]
async fn page() {}

fn main() {}
