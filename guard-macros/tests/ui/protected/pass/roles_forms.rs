// The exact policy, every role form, other extractors alongside, any router state.
use axum::{Json, Router, extract::State, routing::{get, post}};
use guard_axum::{Guard, Principal, api_key, protected};

guard_axum::policy! {
    roles {
        viewer: [view_reports],
        editor: viewer + [edit_reports],
        admin: editor + [manage_keys],
    }
}

#[protected(roles = "admin")]
async fn admin_page(who: Principal) -> String {
    who.name().to_owned()
}

#[protected(roles = ["admin", "editor"])]
async fn editors(State(state): State<AppState>, who: Principal) -> String {
    format!("{} {}", state.greeting, who.name())
}

#[protected]
async fn anyone() -> &'static str {
    "hi"
}

#[protected(roles = "viewer")]
async fn with_body(who: Principal, Json(body): Json<Vec<String>>) -> String {
    format!("{} {body:?}", who.name())
}

#[api_key]
async fn data() -> &'static str {
    "data"
}

mod nested {
    use guard_axum::protected;

    #[protected(roles = "editor")]
    pub async fn in_a_module() {}
}

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

fn main() {
    let _: Router = Router::new()
        .route("/admin", get(admin_page))
        .route("/editors", get(editors))
        .route("/anyone", get(anyone))
        .route("/body", post(with_body))
        .route("/data", get(data))
        .route("/nested", get(nested::in_a_module))
        .with_state(AppState { greeting: "hello" });
    let _ = Guard::builder(&POLICY);
}
