//! `guard roles`, `guard admin-secret`, `guard sessions`.

use axum::http::Method;
use guard_axum::guard_core::credentials::admin_secret::replace_stored;
use serde_json::json;

use super::{find_user, id_of};
use crate::admin::{Admin, segment};
use crate::cli::{AdminSecretCommand, SessionsCommand};
use crate::failure::Failure;
use crate::output::{Out, Table, rows};

pub(crate) async fn roles(admin: &Admin, out: Out) -> Result<(), Failure> {
    let policy = admin.ok(Method::GET, "/roles", None).await?;
    out.show(&policy, |p| Table {
        headers: &["ROLE", "INHERITS", "PERMISSIONS"],
        rows: rows(&p["roles"], &["name", "inherits", "permissions"]),
    });
    Ok(())
}

pub(crate) async fn admin_secret(
    admin: &Admin,
    out: Out,
    command: AdminSecretCommand,
) -> Result<(), Failure> {
    match command {
        AdminSecretCommand::Rotate => {
            let secret = match admin.local_store() {
                // Here, the store's is replaced: what every server without a configured
                // secret accepts.
                Some(store) => replace_stored(store)
                    .await
                    .map_err(|e| Failure::new(e.to_string()))?
                    .expose()
                    .to_owned(),
                None => {
                    let rotated = admin.ok(Method::POST, "/admin-secret/rotate", None).await?;
                    rotated["admin_secret"].as_str().unwrap_or_default().to_owned()
                }
            };
            let answer = json!({"admin_secret": secret});
            out.note("the new admin secret, shown this once (only its hash is kept):");
            out.show(&answer, |a| Table {
                headers: &["ADMIN SECRET"],
                rows: vec![vec![a["admin_secret"].as_str().unwrap_or_default().to_owned()]],
            });
        }
    }
    Ok(())
}

pub(crate) async fn sessions(
    admin: &Admin,
    out: Out,
    command: SessionsCommand,
) -> Result<(), Failure> {
    match command {
        SessionsCommand::List { user } => {
            let id = id_of(&find_user(admin, &user).await?)?;
            let path = format!("/users/{}/sessions", segment(&id));
            let sessions = admin.ok(Method::GET, &path, None).await?;
            out.show(&sessions, |s| Table {
                headers: &["ID", "CREATED", "LAST SEEN", "EXPIRES"],
                rows: rows(&s["sessions"], &["id", "created_at", "last_seen_at", "expires_at"]),
            });
        }
        SessionsCommand::End { id: Some(id), .. } => {
            let path = format!("/sessions/{}", segment(&id));
            let answer = admin.call(Method::DELETE, &path, None).await?;
            match answer.status {
                204 => {}
                404 => return Err(Failure::new(format!("no session `{id}`"))),
                _ => return Err(admin.refusal(&answer)),
            }
            out.show(&json!({"ended": 1}), |_| Table {
                headers: &["ENDED"],
                rows: vec![vec!["1".to_owned()]],
            });
        }
        SessionsCommand::End { id: None, user } => {
            let user = user.ok_or_else(|| Failure::new("give a session's id, or --user"))?;
            let id = id_of(&find_user(admin, &user).await?)?;
            let path = format!("/users/{}/sessions", segment(&id));
            let ended = admin.ok(Method::DELETE, &path, None).await?;
            out.show(&ended, |e| Table {
                headers: &["ENDED"],
                rows: vec![vec![e["ended"].to_string()]],
            });
        }
    }
    Ok(())
}
