//! `/roles`: the policy this guard enforces, as the command line shows it.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::admin::Admin;
use crate::Guard;

/// One role: what it inherits, and what it grants with all it inherits.
#[derive(Debug, Serialize)]
pub(crate) struct RoleBody {
    name: &'static str,
    inherits: Vec<&'static str>,
    permissions: Vec<&'static str>,
}

/// The policy: its permissions and its roles, in declaration order.
#[derive(Debug, Serialize)]
pub(crate) struct PolicyBody {
    permissions: Vec<&'static str>,
    roles: Vec<RoleBody>,
}

/// `GET /roles`.
pub(crate) async fn roles(_: Admin, State(guard): State<Guard>) -> Json<PolicyBody> {
    let policy = guard.policy();
    let roles = policy
        .role_names()
        .map(|name| RoleBody {
            name,
            inherits: policy.inherited(name),
            permissions: policy.permissions_of(&policy.grant(&[name]).permissions),
        })
        .collect();
    Json(PolicyBody { permissions: policy.permission_names().collect(), roles })
}
