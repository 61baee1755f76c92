//! Whether the time of a refusal tells an attacker anything: every class of invalid
//! credential, for keys, sessions and bearer tokens, and every kind of failed login, timed
//! side by side.
//!
//! `cargo bench -p guard-axum --bench timing`
//!
//! Credentials go through the guard's authenticator chain in process (`Guard::authenticate`,
//! what every request runs), `BATCH` attempts per sample; logins through the accounts, one
//! argon2id check per sample. Rounds alternate the arms, in a rotating order, so that the
//! noise of a shared machine falls on all of them; each arm's figure is the median over
//! rounds, with the spread (10th to 90th percentile) of its rounds. The ratio is against the
//! well-formed credential whose id does not exist, the attacker's usual guess.

#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use axum::http::Request;
use guard_axum::guard_core::Clock;
use guard_axum::guard_core::credentials::api_key::Expiry;
use guard_axum::guard_core::credentials::format::CredentialFormat;
use guard_axum::guard_core::credentials::issued::IssuedKind;
use guard_axum::guard_core::credentials::throttle::ThrottleConfig;
use guard_axum::guard_core::credentials::user::NewUser;
use guard_axum::guard_core::store::{RedbStore, UserRecord, UserStore};
use guard_axum::{Guard, ManualClock, NewKey};

guard_axum::policy! { roles { member: [read] } }

const ROUNDS: usize = 41;
const BATCH: usize = 2_000;
const PASSWORD: &str = "correct horse battery";
const NOW: i64 = 1_795_352_940;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A well-formed credential of `format` with this id and a secret of our own: what an
/// attacker who learnt an id (from a log, a screenshot) would try.
fn forged(format: &CredentialFormat, id: &str) -> String {
    let template = format.generate().unwrap().plaintext;
    let prefix = format.prefix().len() + 1 + id.len() + 1;
    let secret = &template[prefix..template.len() - 6];
    let body = format!("{}_{id}_{secret}", format.prefix());
    let mut sum = u64::from(crc32fast::hash(body.as_bytes()));
    let mut digits = [b'0'; 6];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(sum % 62) as usize];
        sum /= 62;
    }
    let forged = format!("{body}{}", String::from_utf8(digits.to_vec()).unwrap());
    assert!(format.parse(forged.as_bytes()).is_ok());
    forged
}

/// A real credential with its checksum broken.
fn malformed(real: &str) -> String {
    let mut bytes = real.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Times the arms in alternating rounds; prints median and spread, and the ratio to `base`.
/// One arm: its name, and what takes one sample.
type Arm<'a> = (&'a str, Box<dyn Fn() -> f64 + 'a>);

fn compare(title: &str, unit: &str, arms: &[Arm<'_>], base: usize) {
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); arms.len()];
    for (_, arm) in arms {
        arm(); // warm
    }
    for round in 0..ROUNDS {
        for k in 0..arms.len() {
            let i = (round + k) % arms.len();
            samples[i].push((arms[i].1)());
        }
    }
    let medians: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            percentile(s, 0.5)
        })
        .collect();
    println!("\n{title} (median of {ROUNDS} rounds; p10–p90 of the rounds)");
    for (i, (name, _)) in arms.iter().enumerate() {
        let s = &samples[i];
        println!(
            "  {name:<34} {:>9.1} {unit}  ({:.1}–{:.1})  {:>6.3}×",
            medians[i],
            percentile(s, 0.1),
            percentile(s, 0.9),
            medians[i] / medians[base]
        );
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.redb");
    // A user whose hash was stored with weaker parameters than today's, by an older release.
    {
        let store = RedbStore::open(&path).unwrap();
        let weak = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        use argon2::PasswordHasher;
        let hash = weak.hash_password(PASSWORD.as_bytes()).unwrap().to_string();
        let record = UserRecord {
            id: "oldaccount00".into(),
            name: "old".into(),
            normalized: "old".into(),
            password: hash,
            roles: vec![],
            disabled: false,
            created_at: NOW,
            updated_at: NOW,
            generation: 0,
            rate_limit: None,
        };
        pollster::block_on(store.insert_user(record)).unwrap();
    }
    let clock = ManualClock::new(NOW);
    let guard = Guard::builder(&POLICY)
        .database(&path)
        .admin_secret("bench-admin-secret-0123456789")
        .clock(Arc::new(clock.clone()))
        .sessions()
        .bearer_tokens()
        .login_throttle(ThrottleConfig::default().free_failures(u32::MAX, u32::MAX, u32::MAX))
        .build()
        .unwrap();
    let keys = guard.keys();
    let accounts = guard.accounts();
    let issued = accounts.issued();
    use pollster::block_on as block;
    let new_user = NewUser { name: "ann".into(), password: PASSWORD.into(), ..NewUser::default() };
    block(accounts.create_user(new_user)).unwrap();
    let ann = accounts.users().by_name("ann").unwrap();
    let key = |expiry| {
        let new = NewKey { roles: vec!["member".into()], expiry, ..NewKey::default() };
        block(keys.create(new)).unwrap()
    };
    let issue = |kind| block(issued.issue(kind, &ann, clock.now())).unwrap().0.expose().to_owned();

    // Expired: made, then the clock moves two days on.
    let key_expired = key(Expiry::InDays(1)).key.expose().to_owned();
    let (session_expired, token_expired) = (issue(IssuedKind::Session), issue(IssuedKind::Token));
    clock.advance(2 * 86_400);
    let valid_key = key(Expiry::Never);
    let revoked_key = key(Expiry::Never);
    block(keys.revoke(&revoked_key.info.id)).unwrap();
    let (session, token) = (issue(IssuedKind::Session), issue(IssuedKind::Token));
    let (session_ended, token_ended) = (issue(IssuedKind::Session), issue(IssuedKind::Token));
    let id_of = |kind: IssuedKind, plaintext: &str| {
        kind.format().parse(plaintext.as_bytes()).unwrap().id.to_owned()
    };
    block(issued.end(&id_of(IssuedKind::Session, &session_ended))).unwrap();
    block(issued.end(&id_of(IssuedKind::Token, &token_ended))).unwrap();

    let key_format = keys.format().clone();
    let (sessions, tokens) = (IssuedKind::Session.format(), IssuedKind::Token.format());
    let valid_key = valid_key.key.expose().to_owned();
    let key_id = key_format.parse(valid_key.as_bytes()).unwrap().id.to_owned();
    let key_arms: Vec<(&str, String)> = vec![
        ("unknown id", key_format.generate().unwrap().plaintext),
        ("known id, wrong secret", forged(&key_format, &key_id)),
        ("revoked", revoked_key.key.expose().to_owned()),
        ("expired", key_expired),
        ("malformed (checksum)", malformed(&valid_key)),
        ("valid (for reference)", valid_key.clone()),
    ];
    let session_arms: Vec<(&str, String)> = vec![
        ("unknown id", sessions.generate().unwrap().plaintext),
        ("known id, wrong secret", forged(&sessions, &id_of(IssuedKind::Session, &session))),
        ("ended", session_ended),
        ("expired", session_expired),
        ("malformed (checksum)", malformed(&session)),
        ("valid (for reference)", session.clone()),
    ];
    let token_arms: Vec<(&str, String)> = vec![
        ("unknown id", tokens.generate().unwrap().plaintext),
        ("known id, wrong secret", forged(&tokens, &id_of(IssuedKind::Token, &token))),
        ("revoked", token_ended),
        ("expired", token_expired),
        ("malformed (checksum)", malformed(&token)),
        ("valid (for reference)", token.clone()),
    ];
    // One sample: the mean time of BATCH authentications, in ns.
    let timed = |header: &'static str, value: String| -> Box<dyn Fn() -> f64 + '_> {
        let guard = &guard;
        Box::new(move || {
            let start = Instant::now();
            for _ in 0..BATCH {
                let request = Request::builder().uri("/x").header(header, &value).body(()).unwrap();
                let mut parts = request.into_parts().0;
                let _ = std::hint::black_box(block(guard.authenticate(&mut parts)));
            }
            start.elapsed().as_nanos() as f64 / BATCH as f64
        })
    };
    for (title, header, prefix, arms) in [
        ("API keys (X-API-Key)", "x-api-key", "", key_arms),
        ("sessions (cookie)", "cookie", "guard_session=", session_arms),
        ("bearer tokens (Authorization)", "authorization", "Bearer ", token_arms),
    ] {
        let arms: Vec<Arm<'_>> = arms
            .into_iter()
            .map(|(name, value)| (name, timed(header, format!("{prefix}{value}"))))
            .collect();
        compare(title, "ns", &arms, 0);
    }

    // Failed logins: one argon2id check each.
    let login = |name: &'static str| -> Box<dyn Fn() -> f64 + '_> {
        Box::new(move || {
            let start = Instant::now();
            let failed = block(accounts.login(name, "a wrong password", None));
            assert!(failed.is_err());
            start.elapsed().as_secs_f64() * 1000.0
        })
    };
    let logins: Vec<Arm<'_>> = vec![
        ("unknown user", login("nobody")),
        ("wrong password", login("ann")),
        ("older hash parameters, wrong", login("old")),
    ];
    compare("failed logins", "ms", &logins, 0);
    guard.shutdown();
}
