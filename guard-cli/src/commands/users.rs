//! `guard user …`.

use axum::http::Method;
use serde_json::{Value, json};

use super::{find_user, id_of, list_all};
use crate::admin::{Admin, segment};
use crate::cli::UserCommand;
use crate::failure::Failure;
use crate::output::{Out, Table, cells, rows};
use crate::password::{confirm, new_password, password};

const FIELDS: &[&str] =
    &["id", "name", "roles", "disabled", "created_at", "updated_at", "rate_limit"];
const HEADERS: &[&str] = &["ID", "NAME", "ROLES", "DISABLED", "CREATED", "UPDATED", "LIMIT"];

fn one(user: &Value) -> Table {
    Table { headers: HEADERS, rows: vec![cells(user, FIELDS)] }
}

pub(crate) async fn run(admin: &Admin, out: Out, command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add { name, roles, rate_limit, password } => {
            let password = new_password(password.password_stdin)?;
            let mut body = json!({"name": name, "password": password, "roles": roles});
            if let Some(limit) = rate_limit {
                body["rate_limit"] = limit;
            }
            let user = admin.ok(Method::POST, "/users", Some(body)).await?;
            out.show(&user, one);
        }
        UserCommand::List => {
            let users = Value::Array(list_all(admin, "/users", "users", usize::MAX).await?);
            out.show(&json!({"users": users}), |all| Table {
                headers: HEADERS,
                rows: rows(&all["users"], FIELDS),
            });
        }
        UserCommand::Show { user } => out.show(&find_user(admin, &user).await?, one),
        UserCommand::Delete { user, yes } => {
            let found = find_user(admin, &user).await?;
            let (id, name) =
                (id_of(&found)?, found["name"].as_str().unwrap_or_default().to_owned());
            let question = format!("Delete user `{name}` ({id}), its sessions, tokens and keys?");
            if !yes && !confirm(&question)? {
                return Err(Failure::new("nothing was deleted"));
            }
            admin.ok(Method::DELETE, &format!("/users/{}", segment(&id)), None).await?;
            out.show(&json!({"deleted": id}), |_| Table {
                headers: &["DELETED"],
                rows: vec![vec![id.clone()]],
            });
        }
        UserCommand::SetPassword { user, password } => {
            let id = id_of(&find_user(admin, &user).await?)?;
            let body = json!({"password": new_password(password.password_stdin)?});
            let path = format!("/users/{}/password", segment(&id));
            out.show(&admin.ok(Method::PUT, &path, Some(body)).await?, one);
        }
        UserCommand::VerifyPassword { user, password: input } => {
            let id = id_of(&find_user(admin, &user).await?)?;
            let body = json!({"password": password(input.password_stdin)?});
            let path = format!("/users/{}/verify-password", segment(&id));
            let checked = admin.ok(Method::POST, &path, Some(body)).await?;
            out.show(&checked, |c| Table {
                headers: &["MATCHES"],
                rows: vec![cells(c, &["matches"])],
            });
            if checked["matches"] != true {
                return Err(Failure::new(format!("the password is not `{user}`'s")));
            }
        }
        UserCommand::Disable { user } => {
            patch(admin, out, &find_user(admin, &user).await?, json!({"disabled": true})).await?;
        }
        UserCommand::Enable { user } => {
            patch(admin, out, &find_user(admin, &user).await?, json!({"disabled": false})).await?;
        }
        UserCommand::RateLimit { user, limit } => {
            let body = json!({"rate_limit": limit});
            patch(admin, out, &find_user(admin, &user).await?, body).await?;
        }
        UserCommand::Roles { user, set, add, remove } => {
            let found = find_user(admin, &user).await?;
            let mut roles: Vec<String> = match set {
                Some(set) => set,
                None => found["roles"]
                    .as_array()
                    .map(|r| r.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
            };
            for role in add {
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            roles.retain(|role| !remove.contains(role));
            patch(admin, out, &found, json!({"roles": roles})).await?;
        }
    }
    Ok(())
}

/// Changes `user` (as the API answered it) with `body`, and prints it changed.
async fn patch(admin: &Admin, out: Out, user: &Value, body: Value) -> Result<(), Failure> {
    let path = format!("/users/{}", segment(&id_of(user)?));
    out.show(&admin.ok(Method::PATCH, &path, Some(body)).await?, one);
    Ok(())
}
