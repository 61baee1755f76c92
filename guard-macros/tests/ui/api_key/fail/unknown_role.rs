use guard_axum::api_key;

guard_axum::policy! {
    roles { reader: [read], writer: reader + [write] }
}

#[api_key(roles = "writter")]
async fn data() {}

fn main() {}
