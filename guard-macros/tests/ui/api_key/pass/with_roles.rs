// `#[api_key]` alone needs no policy; with names it checks them like `#[protected]`.
use axum::{Router, routing::get};
use guard_axum::api_key;

guard_axum::policy! {
    permissions { read, write }
    roles {
        reader: [read],
        writer: reader + [write],
    }
}

#[api_key]
async fn any_key() {}

#[api_key(roles = "writer")]
async fn writer_key() {}

#[api_key(permissions = ["read", "write"])]
async fn both_permissions() {}

fn main() {
    let _: Router = Router::new()
        .route("/a", get(any_key))
        .route("/b", get(writer_key))
        .route("/c", get(both_permissions));
}
