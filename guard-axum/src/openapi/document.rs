//! [`Guard::openapi`]: the notes of [`routes!`](crate::openapi::routes) become security
//! requirements on the schemes of the guard's authenticators, and the guard's own routes are
//! documented (unless hidden).

use guard_core::authn::Carrier;
use guard_core::config::ConfigError;
use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

use super::note::{NOTE, Note};
use crate::Guard;
use crate::authn::api_key::NAME as API_KEY_NAME;

/// The admin and auth routes, relative to where they are nested.
const GUARD_ROUTES: &str = include_str!("../routes/openapi.json");

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The scheme that admits to the admin API by its secret.
const ADMIN_SECRET_SCHEME: &str = "AdminSecret";
/// The OAuth2 password flow of `POST {mount}/token`.
const OAUTH2_SCHEME: &str = "OAuth2Password";

/// `GUARD_HIDE_DOCS`: `1`/`true`/`yes` hide the guard's routes, `0`/`false`/`no` (or unset)
/// show them.
pub(crate) fn hide_docs_from_env() -> Result<Option<bool>, ConfigError> {
    parse_hide_docs(std::env::var_os("GUARD_HIDE_DOCS").map(|v| v.to_string_lossy().into_owned()))
}

fn parse_hide_docs(value: Option<String>) -> Result<Option<bool>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" => Ok(Some(false)),
        "1" | "true" | "yes" => Ok(Some(true)),
        _ => Err(ConfigError::Invalid {
            name: "GUARD_HIDE_DOCS",
            value,
            expected: "1, true or yes to hide the guard's routes from the OpenAPI document; 0, false or no to show them",
        }),
    }
}

/// One security scheme of the document.
struct Scheme {
    name: String,
    definition: Value,
    /// An API key: what `#[api_key]` accepts.
    api_key: bool,
    /// Checks a password on every request, so failed attempts are throttled (429).
    password: bool,
}

impl Guard {
    /// Completes an OpenAPI document (feature `openapi`): the security schemes of this
    /// guard's authenticators, on every operation [`routes!`](crate::openapi::routes) found
    /// guarded, the requirement its attribute states (roles and permissions as scopes) and
    /// the answers it may give (401, 403, 429, 503); a public route has no lock.
    /// Unless hidden ([`GuardBuilder::hide_docs`](crate::GuardBuilder::hide_docs),
    /// `GUARD_HIDE_DOCS`), the admin and auth routes are documented too, under `mount`: where
    /// the application nests them (`"/auth"` in `.nest("/auth", guard.admin_router())`).
    ///
    /// ```ignore
    /// let (router, api) = OpenApiRouter::new()
    ///     .routes(guard_axum::openapi::routes!(secure))
    ///     .split_for_parts();
    /// let api = guard.openapi(api, "/auth");
    /// ```
    pub fn openapi(&self, api: OpenApi, mount: &str) -> OpenApi {
        let mount = mount.trim_end_matches('/');
        let Ok(mut doc) = serde_json::to_value(&api) else {
            return api;
        };
        let schemes = self.schemes(mount);
        if !self.hide_docs() {
            self.add_guard_routes(&mut doc, mount, &schemes);
        }
        self.secure_operations(&mut doc, &schemes);
        let components = object(&mut doc, "components");
        let security_schemes = object_in(components, "securitySchemes");
        for scheme in &schemes {
            security_schemes.insert(scheme.name.clone(), scheme.definition.clone());
        }
        object_in(components, "schemas").insert("GuardError".into(), guard_error_schema());
        match serde_json::from_value(doc) {
            Ok(completed) => completed,
            Err(error) => {
                tracing::error!(%error, "the completed OpenAPI document did not read back; serving it without the guard's additions");
                api
            }
        }
    }

    /// The schemes of the chain's authenticators, as each describes its credential, then the
    /// admin secret and the OAuth2 password flow (when `/token` is served).
    fn schemes(&self, mount: &str) -> Vec<Scheme> {
        let mut schemes: Vec<Scheme> = Vec::new();
        for (_, name, description) in self.chain().describe() {
            let api_key = name == API_KEY_NAME;
            for carrier in description.carriers() {
                let (scheme_name, definition) = match carrier {
                    Carrier::Header(header) => (
                        format!("{}Header", description.scheme()),
                        json!({"type": "apiKey", "in": "header", "name": header}),
                    ),
                    Carrier::Query(param) => (
                        format!("{}Query", description.scheme()),
                        json!({"type": "apiKey", "in": "query", "name": param}),
                    ),
                    Carrier::Cookie(cookie) => (
                        format!("{}Cookie", description.scheme()),
                        json!({"type": "apiKey", "in": "cookie", "name": cookie}),
                    ),
                    Carrier::Bearer => {
                        ("Bearer".to_owned(), json!({"type": "http", "scheme": "bearer"}))
                    }
                    Carrier::Basic => {
                        ("Basic".to_owned(), json!({"type": "http", "scheme": "basic"}))
                    }
                    _ => continue,
                };
                match schemes.iter_mut().find(|s| s.name == scheme_name) {
                    // Two authenticators on one carrier (opaque tokens and JWTs): one scheme.
                    Some(existing) => append_description(&mut existing.definition, name),
                    None => {
                        let mut definition = definition;
                        append_description(&mut definition, name);
                        schemes.push(Scheme {
                            name: scheme_name,
                            definition,
                            api_key,
                            password: matches!(carrier, Carrier::Basic),
                        });
                    }
                }
            }
        }
        if let Some(bearer) = schemes.iter_mut().find(|s| s.name == "Bearer") {
            let jwt_only = self.logins().jwt.is_some() && !self.logins().tokens;
            if jwt_only {
                bearer.definition["bearerFormat"] = json!("JWT");
            }
        }
        schemes.push(Scheme {
            name: ADMIN_SECRET_SCHEME.into(),
            definition: json!({
                "type": "apiKey", "in": "header", "name": "X-Admin-Secret",
                "description": "The admin secret: admits to the admin API only."
            }),
            api_key: false,
            password: false,
        });
        let logins = self.logins();
        if logins.tokens || logins.issue_jwts {
            let policy = self.policy();
            let scopes: Map<String, Value> = policy
                .role_names()
                .map(|r| (r.to_owned(), json!(format!("role {r}"))))
                .chain(
                    policy
                        .permission_names()
                        .map(|p| (p.to_owned(), json!(format!("permission {p}")))),
                )
                .collect();
            schemes.push(Scheme {
                name: OAUTH2_SCHEME.into(),
                definition: json!({
                    "type": "oauth2",
                    "description": "A bearer token for a user's name and password (OAuth2 password grant).",
                    "flows": {"password": {"tokenUrl": format!("{mount}/token"), "scopes": scopes}}
                }),
                api_key: false,
                password: true,
            });
        }
        schemes
    }

    /// Replaces each operation's note with its security and adds the guard's answers.
    fn secure_operations(&self, doc: &mut Value, schemes: &[Scheme]) {
        let policy = self.policy();
        let roles: Vec<&str> = policy.role_names().collect();
        let permissions: Vec<&str> = policy.permission_names().collect();
        let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
            return;
        };
        for item in paths.values_mut() {
            for method in METHODS {
                let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                    continue;
                };
                let Some(note) = operation.remove(NOTE) else {
                    continue;
                };
                let Ok(note) = serde_json::from_value::<Note>(note) else {
                    continue;
                };
                let accepted: Vec<&Scheme> = schemes
                    .iter()
                    .filter(|s| s.name != ADMIN_SECRET_SCHEME)
                    .filter(|s| !note.api_key || s.api_key)
                    .collect();
                let mut security = Vec::new();
                let mut checks = Vec::new();
                for alternative in &note.alternatives {
                    let scopes: Vec<&str> = alternative
                        .roles
                        .iter()
                        .filter_map(|&i| roles.get(i).copied())
                        .chain(
                            alternative
                                .permissions
                                .iter()
                                .filter_map(|&i| permissions.get(i).copied()),
                        )
                        .collect();
                    checks.extend(alternative.checks.iter().cloned());
                    for scheme in &accepted {
                        let requirement = json!({ scheme.name.clone(): scopes });
                        if !security.contains(&requirement) {
                            security.push(requirement);
                        }
                    }
                }
                operation.insert("security".into(), Value::Array(security));
                let forbids = note.alternatives.iter().any(|a| a.can_forbid());
                let password = accepted.iter().any(|s| s.password && s.name != OAUTH2_SCHEME);
                add_answers(operation, forbids, password, &checks);
            }
        }
    }

    /// The admin and auth routes this guard serves, under `mount`.
    fn add_guard_routes(&self, doc: &mut Value, mount: &str, schemes: &[Scheme]) {
        let Ok(Value::Object(mut guard_doc)) = serde_json::from_str::<Value>(GUARD_ROUTES) else {
            tracing::error!("the guard's own OpenAPI fragment does not parse");
            return;
        };
        let logins = self.logins();
        let served = |when: Option<&str>| match when {
            None => true,
            Some("sessions") => logins.sessions,
            Some("bearer_tokens") => logins.tokens,
            Some("token_issuing") => logins.tokens || logins.issue_jwts,
            Some("registration") => logins.registration.is_some(),
            Some(_) => false,
        };
        let principals: Vec<&Scheme> =
            schemes.iter().filter(|s| s.name != ADMIN_SECRET_SCHEME).collect();
        let admin_scopes: Vec<&str> = self
            .admin_permission()
            .map(|set| self.policy().permissions_of(set))
            .unwrap_or_default();
        let mut admin_security = vec![json!({ ADMIN_SECRET_SCHEME: [] })];
        if !admin_scopes.is_empty() {
            admin_security
                .extend(principals.iter().map(|s| json!({ s.name.clone(): admin_scopes.clone() })));
        }
        let authenticated: Vec<Value> =
            principals.iter().map(|s| json!({ s.name.clone(): [] })).collect();

        let paths = object(doc, "paths");
        if let Some(Value::Object(guard_paths)) = guard_doc.remove("paths") {
            for (path, mut item) in guard_paths {
                let Some(operations) = item.as_object_mut() else { continue };
                operations.retain(|method, operation| {
                    let when = operation.get("x-guard-when").and_then(Value::as_str);
                    !METHODS.contains(&method.as_str()) || served(when)
                });
                for method in METHODS {
                    let Some(operation) = operations.get_mut(method).and_then(Value::as_object_mut)
                    else {
                        continue;
                    };
                    operation.remove("x-guard-when");
                    if operation.remove("x-guard-admin").is_some() {
                        operation.insert("security".into(), Value::Array(admin_security.clone()));
                    } else if operation.remove("x-guard-authenticated").is_some() {
                        operation.insert("security".into(), Value::Array(authenticated.clone()));
                    }
                }
                if operations.keys().any(|m| METHODS.contains(&m.as_str())) {
                    paths.entry(format!("{mount}{path}")).or_insert(item);
                }
            }
        }
        if let Some(Value::Object(mut components)) = guard_doc.remove("components")
            && let Some(Value::Object(guard_schemas)) = components.remove("schemas")
        {
            let schemas = object_in(object(doc, "components"), "schemas");
            for (name, schema) in guard_schemas {
                schemas.entry(name).or_insert(schema);
            }
        }
    }
}

/// The 401, 403, 429 (a rate limit; with Basic, throttling too) and 503 a guarded operation may
/// answer, where it does not say already.
fn add_answers(
    operation: &mut Map<String, Value>,
    forbids: bool,
    password: bool,
    checks: &[String],
) {
    let error =
        json!({"application/json": {"schema": {"$ref": "#/components/schemas/GuardError"}}});
    let retry_after =
        json!({"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}});
    let responses = object_in(operation, "responses");
    responses.entry("401").or_insert_with(|| json!({
        "description": "No credentials, or invalid ones.",
        "headers": {"WWW-Authenticate": {"description": "The schemes the guard accepts", "schema": {"type": "string"}}},
        "content": error.clone()
    }));
    if forbids {
        let mut description =
            "Authenticated, but without the roles or permissions this route needs".to_owned();
        if !checks.is_empty() {
            description.push_str(&format!(", or refused by the check {}", checks.join(", ")));
        }
        description.push('.');
        responses
            .entry("403")
            .or_insert_with(|| json!({"description": description, "content": error.clone()}));
    }
    // Any key or user may carry a rate limit; Basic also throttles failed passwords.
    let description = if password {
        "The credentials are over their rate limit, or too many failed password attempts; try again later."
    } else {
        "The credentials are over their rate limit; try again later."
    };
    responses.entry("429").or_insert_with(|| {
        json!({"description": description, "headers": retry_after.clone(), "content": error.clone()})
    });
    responses.entry("503").or_insert_with(|| {
        json!({
            "description": "The guard's store is unreachable; try again later.",
            "headers": retry_after,
            "content": error
        })
    });
}

fn guard_error_schema() -> Value {
    json!({
        "type": "object",
        "description": "Every error the guard answers.",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. `unauthorized`"},
            "detail": {"type": "string", "description": "What happened, for people"}
        }
    })
}

fn append_description(definition: &mut Value, authenticator: &str) {
    let text = match definition.get("description").and_then(Value::as_str) {
        Some(existing) => format!("{existing}; the guard's {authenticator}"),
        None => format!("The guard's {authenticator}"),
    };
    definition["description"] = Value::String(text);
}

/// The object at `key` of `value` (made an object if it is not one).
fn object<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => object_in(map, key),
        _ => unreachable!("made an object above"),
    }
}

fn object_in<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(inner) => inner,
        _ => unreachable!("made an object above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hide_switch_reads_yes_and_no_and_refuses_the_rest() {
        assert_eq!(parse_hide_docs(None).unwrap(), None);
        assert_eq!(parse_hide_docs(Some("1".into())).unwrap(), Some(true));
        assert_eq!(parse_hide_docs(Some(" TRUE ".into())).unwrap(), Some(true));
        assert_eq!(parse_hide_docs(Some("no".into())).unwrap(), Some(false));
        assert_eq!(parse_hide_docs(Some(String::new())).unwrap(), Some(false));
        let error = parse_hide_docs(Some("maybe".into())).unwrap_err().to_string();
        assert!(error.starts_with("GUARD_HIDE_DOCS=\"maybe\" is invalid"), "{error}");
    }

    /// utoipa reads back every part of the guard's own routes' document.
    #[test]
    fn the_guard_routes_read_back() {
        let fragment: Value = serde_json::from_str(GUARD_ROUTES).expect("the fragment parses");
        let mut failures = Vec::new();
        for (name, schema) in fragment["components"]["schemas"].as_object().expect("schemas") {
            if let Err(e) = serde_json::from_value::<
                utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
            >(schema.clone())
            {
                failures.push(format!("schema {name}: {e}"));
            }
        }
        for (path, item) in fragment["paths"].as_object().expect("paths") {
            if let Err(e) = serde_json::from_value::<utoipa::openapi::path::PathItem>(item.clone())
            {
                failures.push(format!("path {path}: {e}"));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
