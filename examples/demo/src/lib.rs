//! The guard demo: a server with public, API-key and role-protected routes.
//!
//! Run it with `cargo run -p demo`; see the README for a walk-through with curl.

use axum::extract::Path;
use axum::http::request::Parts;
use axum::response::Html;
use axum::{Json, Router};
use guard_axum::openapi::routes;
use guard_axum::{Guard, GuardBuilder, GuardError, Principal, api_key, protected};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

/// The demo's guard, configured by `GUARD_DB`, `GUARD_ADMIN_SECRET` and `GUARD_KEY_TTL_DAYS`.
/// Keys holding `manage_keys` (the `admin` role) may use the admin API too. People log in
/// with a session (the login page) or a bearer token (`POST /auth/token`); with
/// `DEMO_JWT_SECRET` (at least 32 bytes), the tokens are JWTs signed with it (HS256).
pub fn guard_from_env() -> Result<Guard, GuardError> {
    let mut builder = configure(Guard::builder(&POLICY).with_env()?);
    if let Ok(secret) = std::env::var("DEMO_JWT_SECRET") {
        if secret.len() < 32 {
            return Err(GuardError::Jwt("DEMO_JWT_SECRET must be at least 32 bytes".into()));
        }
        let key = guard_axum::guard_core::credentials::jwt::JwtKey::Hs256(secret.into_bytes());
        builder =
            builder.jwt(guard_axum::guard_core::credentials::jwt::JwtConfig::new(key)).issue_jwts();
    }
    builder.build()
}

/// The demo's settings on `builder`: what `guard_from_env` builds, for tests to build on.
pub fn configure(builder: GuardBuilder) -> GuardBuilder {
    builder.admin_permission("manage_keys").sessions().bearer_tokens()
}

/// The demo's routes, guarded by `guard`, with their OpenAPI document at `/openapi.json` and
/// Swagger UI at `/docs`.
pub fn app(guard: &Guard) -> Router {
    let (routes, api) = OpenApiRouter::with_openapi(Document::openapi())
        .routes(routes!(index))
        .routes(routes!(secure))
        .routes(routes!(admin))
        .routes(routes!(me))
        .routes(routes!(reports))
        .routes(routes!(notes))
        .routes(routes!(dashboard))
        .split_for_parts();
    let api = guard.openapi(api, "/auth");
    routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .nest("/auth", guard.admin_router().merge(guard.auth_router()))
        .layer(guard.layer())
        // Request logs, with the URI as `loggable_uri` gives it: a key sent as `?api-key=` is
        // not written to the log.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
            tracing::info_span!(
                "request",
                method = %request.method(),
                uri = %guard_axum::loggable_uri(request.uri()),
            )
        }))
}

#[derive(OpenApi)]
#[openapi(info(
    title = "guard demo",
    description = "Public, API-key and role-protected routes; each lock comes from the route's guard attribute."
))]
struct Document;

#[utoipa::path(get, path = "/", responses((status = 200, description = "What the demo serves", body = String)))]
async fn index() -> &'static str {
    "guard demo: GET /secure needs an API key, GET /admin an admin, GET /me shows who you are;\n\
     people log in at /auth/login (a page) or get a token from POST /auth/token\n"
}

/// A page for people: log in at `/auth/login?next=/dashboard` to see it.
#[utoipa::path(get, path = "/dashboard", responses((status = 200, description = "A welcome page", body = String, content_type = "text/html")))]
#[protected]
async fn dashboard(who: Principal) -> Html<String> {
    let name = who.name().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    Html(format!(
        "<!doctype html><title>Dashboard</title><h1 id=\"welcome\">Welcome, {name}</h1>\n\
         <form method=\"post\" action=\"/auth/logout?next=/auth/login\"><button>Log out</button></form>\n"
    ))
}

/// Needs any valid API key.
#[utoipa::path(get, path = "/secure", responses((status = 200, description = "The key was valid", body = String)))]
#[api_key]
async fn secure() -> &'static str {
    "you presented a valid API key\n"
}

/// Needs the `admin` role.
#[utoipa::path(get, path = "/admin", responses((status = 200, description = "A greeting for an admin", body = String)))]
#[protected(roles = "admin")]
async fn admin(who: Principal) -> String {
    format!("hello {}, you are an admin\n", who.name())
}

/// The caller.
#[utoipa::path(get, path = "/me", responses((status = 200, description = "The caller", body = Principal)))]
#[protected]
async fn me(who: Principal) -> Json<Principal> {
    Json(who)
}

/// Needs the `view_reports` permission.
#[utoipa::path(get, path = "/reports", responses((status = 200, description = "The reports", body = String)))]
#[protected(permissions = "view_reports")]
async fn reports(who: Principal) -> String {
    format!("reports for {}: all green\n", who.name())
}

/// `/notes/{owner}`: the owner's own notes; admins may read anyone's. The owner is a
/// principal id (an API key's id): unique and stable, unlike a display name.
#[utoipa::path(
    get,
    path = "/notes/{owner}",
    params(("owner" = String, Path, description = "The owner's principal id")),
    responses((status = 200, description = "The notes", body = String))
)]
#[protected(any(roles = "admin", check = is_owner))]
async fn notes(Path(owner): Path<String>) -> String {
    format!("notes of {owner}\n")
}

/// The caller is the `{owner}` of `/notes/{owner}`.
fn is_owner(who: &Principal, parts: &Parts) -> bool {
    parts.uri.path().strip_prefix("/notes/") == Some(who.id())
}
