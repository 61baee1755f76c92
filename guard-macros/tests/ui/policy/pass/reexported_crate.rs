// A crate that re-exports guard declares its policy and protects handlers through that path.
use axum::{Router, routing::get};

mod platform {
    pub use guard_axum as guard;
}

use platform::guard::protected;

platform::guard::policy! {
    crate = "crate::platform::guard";
    roles { admin: [manage_keys] }
}

#[protected(crate = "crate::platform::guard", roles = "admin")]
async fn admin() {}

fn main() {
    let _: Router = Router::new().route("/", get(admin));
    let _ = platform::guard::Guard::builder(&POLICY);
}
