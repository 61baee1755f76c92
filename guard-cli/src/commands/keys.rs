//! `guard key …`.

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::{find_user, id_of, key_call, list_all};
use crate::admin::Admin;
use crate::cli::{ExpiryArgs, KeyCommand};
use crate::failure::Failure;
use crate::output::{Out, Table, cell, cells, render, rows};
use crate::password::confirm;

const FIELDS: &[&str] = &[
    "id",
    "name",
    "roles",
    "owner",
    "state",
    "expires_at",
    "last_used_at",
    "total_uses",
    "rate_limit",
];
const HEADERS: &[&str] =
    &["ID", "NAME", "ROLES", "OWNER", "STATE", "EXPIRES", "LAST USED", "USES", "LIMIT"];

fn one(key: &Value) -> Table {
    Table { headers: HEADERS, rows: vec![cells(key, FIELDS)] }
}

/// The expiry fields of a create or renew body.
fn expiry(args: ExpiryArgs, body: &mut Map<String, Value>) {
    if let Some(days) = args.ttl_days {
        body.insert("ttl_days".into(), json!(days));
    }
    if let Some(at) = args.expires_at {
        body.insert("expires_at".into(), json!(at));
    }
    if args.never_expires {
        body.insert("never_expires".into(), json!(true));
    }
}

pub(crate) async fn run(admin: &Admin, out: Out, command: KeyCommand) -> Result<(), Failure> {
    match command {
        KeyCommand::Create { name, roles, owner, rate_limit, expiry: args } => {
            let mut body = Map::new();
            if let Some(name) = name {
                body.insert("name".into(), json!(name));
            }
            body.insert("roles".into(), json!(roles));
            if let Some(owner) = owner {
                body.insert("owner".into(), json!(id_of(&find_user(admin, &owner).await?)?));
            }
            expiry(args, &mut body);
            if let Some(limit) = rate_limit {
                body.insert("rate_limit".into(), limit);
            }
            let created = admin.ok(Method::POST, "/keys", Some(Value::Object(body))).await?;
            out.note(&format!(
                "key: {}\n(shown this once: only its hash is kept)\n",
                created["key"].as_str().unwrap_or_default()
            ));
            out.show(&created, one);
        }
        KeyCommand::List { limit } => {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let keys = Value::Array(list_all(admin, "/keys", "keys", limit).await?);
            out.show(&json!({"keys": keys}), |all| Table {
                headers: HEADERS,
                rows: rows(&all["keys"], FIELDS),
            });
        }
        KeyCommand::Show { id } => {
            out.show(&key_call(admin, Method::GET, &id, "", None).await?, one)
        }
        KeyCommand::Revoke { id } => {
            out.show(&key_call(admin, Method::POST, &id, "/revoke", None).await?, one);
        }
        KeyCommand::Renew { id, rate_limit, expiry: args } => {
            let mut body = Map::new();
            expiry(args, &mut body);
            if let Some(limit) = rate_limit {
                body.insert("rate_limit".into(), limit);
            }
            let renewed = key_call(admin, Method::POST, &id, "/renew", Some(Value::Object(body)));
            out.show(&renewed.await?, one);
        }
        KeyCommand::RateLimit { id, limit } => {
            let body = json!({"rate_limit": limit});
            out.show(&key_call(admin, Method::PATCH, &id, "", Some(body)).await?, one);
        }
        KeyCommand::Delete { id, yes } => {
            key_call(admin, Method::GET, &id, "", None).await?;
            if !yes && !confirm(&format!("Delete key `{id}` and its usage?"))? {
                return Err(Failure::new("nothing was deleted"));
            }
            key_call(admin, Method::DELETE, &id, "", None).await?;
            out.show(&json!({"deleted": id}), |_| Table {
                headers: &["DELETED"],
                rows: vec![vec![id.clone()]],
            });
        }
        KeyCommand::Usage { id, since, until, granularity, limit } => {
            let mut query = Vec::new();
            for (name, value) in [("since", since), ("until", until), ("granularity", granularity)]
            {
                if let Some(value) = value {
                    query.push(format!("{name}={}", crate::admin::segment(&value)));
                }
            }
            if let Some(limit) = limit {
                query.push(format!("limit={limit}"));
            }
            let tail = if query.is_empty() {
                "/usage".to_owned()
            } else {
                format!("/usage?{}", query.join("&"))
            };
            let usage = key_call(admin, Method::GET, &id, &tail, None).await?;
            out.show_text(&usage, usage_text);
        }
    }
    Ok(())
}

/// A key's usage for people: its counters, its last requests, its counts by period.
fn usage_text(usage: &Value) -> String {
    let counters = Table {
        headers: &["ID", "USES", "LAST USED", "SINCE", "UNTIL", "BY"],
        rows: vec![crate::output::cells(
            usage,
            &["id", "total_uses", "last_used_at", "since", "until", "granularity"],
        )],
    };
    let recent = Table {
        headers: &["AT", "METHOD", "ROUTE", "OUTCOME"],
        rows: rows(&usage["recent"], &["at", "method", "route", "outcome"]),
    };
    let rollups = Table {
        headers: &["START", "METHOD", "ROUTE", "OUTCOME", "COUNT"],
        rows: rows(&usage["rollups"], &["start", "method", "route", "outcome", "count"]),
    };
    format!(
        "{}\nLast requests\n{}\nBy {}\n{}",
        render(&counters),
        render(&recent),
        cell(&usage["granularity"]),
        render(&rollups)
    )
}
