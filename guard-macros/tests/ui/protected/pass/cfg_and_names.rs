// Handlers of one name under opposite `#[cfg]`s, a handler named like generated items, and a
// check named like the wrapper's parameters.
use axum::http::request::Parts;
use axum::{Router, routing::get};
use guard_axum::{Principal, protected};

guard_axum::policy! {
    roles { admin: [manage_keys] }
}

#[protected(roles = "admin")]
#[cfg(debug_assertions)]
async fn twin() {}

#[protected(roles = "admin")]
#[cfg(not(debug_assertions))]
async fn twin() {}

fn parts(_: &Principal, _: &Parts) -> bool {
    true
}

#[protected(check = parts)]
async fn foo() {}

#[protected(check = parts)]
async fn foo_check_0() {}

fn main() {
    let _: Router = Router::new()
        .route("/twin", get(twin))
        .route("/foo", get(foo))
        .route("/foo0", get(foo_check_0));
}
