// Permissions, sync and async checks, and any/all combinations, in `#[protected]` and
// `#[api_key]`.
use axum::http::request::Parts;
use axum::{Router, routing::get};
use guard_axum::{Principal, api_key, protected};

guard_axum::policy! {
    permissions { view_reports, edit_reports, manage_keys }
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

fn is_owner(who: &Principal, parts: &Parts) -> bool {
    parts.uri.path().ends_with(who.name())
}

async fn is_on_call(who: &Principal, _parts: &Parts) -> bool {
    who.name().starts_with("ops-")
}

mod rules {
    pub fn always(_: &guard_axum::Principal, _: &axum::http::request::Parts) -> bool {
        true
    }
}

#[protected(permissions = "view_reports")]
async fn reports() {}

#[protected(permissions = ["view_reports", "edit_reports"])]
async fn edit() {}

#[protected(check = is_owner)]
async fn own() {}

#[protected(check = is_on_call)]
async fn on_call() {}

#[protected(any(roles = "admin", all(permissions = ["edit_reports"], check = is_owner)))]
async fn admin_or_owning_editor(who: Principal) -> String {
    who.name().to_owned()
}

#[protected(roles = "viewer", any(check = is_on_call, check = rules::always))]
async fn nested() {}

#[api_key(any(roles = "admin", check = crate::is_owner))]
async fn keyed() {}

fn main() {
    let _: Router = Router::new()
        .route("/reports", get(reports))
        .route("/edit", get(edit))
        .route("/own", get(own))
        .route("/on-call", get(on_call))
        .route("/either", get(admin_or_owning_editor))
        .route("/nested", get(nested))
        .route("/keyed", get(keyed));
}
