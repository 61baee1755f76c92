// A policy declared in a module is named with `policy = path`.
use axum::{Router, routing::get};
use guard_axum::protected;

mod auth {
    guard_axum::policy! {
        roles { staff: [enter] }
    }
}

#[protected(policy = crate::auth, roles = "staff")]
async fn staff_only() {}

fn main() {
    let _: Router = Router::new().route("/", get(staff_only));
    let _ = guard_axum::Guard::builder(&auth::POLICY);
}
