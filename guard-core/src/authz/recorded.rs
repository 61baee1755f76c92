//! The policy as recorded in the store ([`Policy::describe`](super::Policy::describe)), read
//! back by a program that runs without the application: the command line, which checks role
//! names against what the servers declared.

use super::{PolicySpec, RoleSpec};

/// Why a recorded policy cannot be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordedPolicyError {
    /// Not the JSON `Policy::describe` writes.
    #[error("the policy recorded in the store cannot be read: {0}")]
    Malformed(String),
}

#[derive(serde::Deserialize)]
struct Recorded {
    fingerprint: String,
    permissions: Vec<String>,
    roles: Vec<RecordedRole>,
}

#[derive(serde::Deserialize)]
struct RecordedRole {
    name: String,
    inherits: Vec<String>,
    permissions: Vec<String>,
}

fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// The spec of a recorded policy. Its names are leaked, to live as long as the process, as a
/// spec declared with `policy!` does: for a program that reads it once.
pub fn from_recorded(description: &[u8]) -> Result<&'static PolicySpec, RecordedPolicyError> {
    let malformed = |why: String| RecordedPolicyError::Malformed(why);
    let recorded: Recorded =
        serde_json::from_slice(description).map_err(|e| malformed(e.to_string()))?;
    let fingerprint = u64::from_str_radix(&recorded.fingerprint, 16)
        .map_err(|_| malformed(format!("fingerprint {:?}", recorded.fingerprint)))?;
    let index =
        |names: &[String], wanted: &str, what: &str| {
            names.iter().position(|n| n == wanted).and_then(|i| u16::try_from(i).ok()).ok_or_else(
                || malformed(format!("a role refers to the undeclared {what} `{wanted}`")),
            )
        };
    let role_names: Vec<String> = recorded.roles.iter().map(|r| r.name.clone()).collect();
    let mut roles = Vec::with_capacity(recorded.roles.len());
    for role in &recorded.roles {
        let inherits = role
            .inherits
            .iter()
            .map(|name| index(&role_names, name, "role"))
            .collect::<Result<Vec<u16>, _>>()?;
        let permissions = role
            .permissions
            .iter()
            .map(|name| index(&recorded.permissions, name, "permission"))
            .collect::<Result<Vec<u16>, _>>()?;
        roles.push(RoleSpec::new(
            leak(role.name.clone()),
            Box::leak(inherits.into_boxed_slice()),
            Box::leak(permissions.into_boxed_slice()),
        ));
    }
    let permissions: Vec<&'static str> = recorded.permissions.into_iter().map(leak).collect();
    let spec = PolicySpec::new(
        fingerprint,
        Box::leak(permissions.into_boxed_slice()),
        Box::leak(roles.into_boxed_slice()),
    );
    Ok(Box::leak(Box::new(spec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::Policy;

    static SPEC: PolicySpec = PolicySpec::new(
        0xabc,
        &["view", "edit", "manage"],
        &[
            RoleSpec::new("viewer", &[], &[0]),
            RoleSpec::new("editor", &[0], &[1]),
            RoleSpec::new("admin", &[1], &[2]),
        ],
    );

    #[test]
    fn a_recorded_policy_reads_back_as_itself() {
        let original = Policy::new(&SPEC).unwrap();
        let recorded = original.describe().to_string();
        let read = Policy::new(from_recorded(recorded.as_bytes()).unwrap()).unwrap();
        assert_eq!(read.describe(), original.describe(), "the same description, fingerprint too");
        assert_eq!(read.fingerprint(), 0xabc);
        let admin = read.grant(&["admin"]);
        assert_eq!(admin.role_names, ["admin"]);
        assert_eq!(admin.roles, original.grant(&["admin"]).roles, "inheritance too");
        assert!(from_recorded(b"{}").is_err());
        let dangling = r#"{"fingerprint":"1","permissions":[],"roles":[{"name":"a","inherits":["b"],"permissions":[]}]}"#;
        assert!(from_recorded(dangling.as_bytes()).is_err());
    }
}
