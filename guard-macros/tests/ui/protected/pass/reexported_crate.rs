// A crate that re-exports guard names it with `crate = "…"`.
use axum::{Router, routing::get};

mod platform {
    pub use guard_axum as guard;
}

use platform::guard::{api_key, protected};

#[protected(crate = "crate::platform::guard")]
async fn anyone() {}

#[api_key(crate = "crate::platform::guard")]
async fn keyed() {}

fn main() {
    let _: Router = Router::new().route("/", get(anyone)).route("/k", get(keyed));
}
