//! The key ring's tests: following another process's writes, and guesses at a real key.

use super::*;
use crate::authz::{Policy, PolicySpec, RoleSpec};
use crate::clock::ManualClock;
use crate::store::{KeyStore, RedbStore};

static SPEC: PolicySpec = PolicySpec::new(1, &["read"], &[RoleSpec::new("reader", &[], &[0])]);

fn ring(store: &SharedStore, clock: &ManualClock) -> KeyRing {
    let grants = Arc::new(Grants::new(Arc::new(Policy::new(&SPEC).unwrap())));
    let config = KeyRingConfig { format: CredentialFormat::default(), default_ttl_days: 15 };
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let users = pollster::block_on(UserDirectory::load(Arc::clone(store), Arc::clone(&grants)));
    let users = Arc::new(users.unwrap());
    pollster::block_on(KeyRing::load(Arc::clone(store), grants, users, clock, config)).unwrap()
}

/// A key written to the store by someone else: its plaintext and record.
fn foreign_key(format: &CredentialFormat, revoked: bool) -> (String, KeyRecord) {
    let generated = format.generate().unwrap();
    let record = KeyRecord {
        id: generated.id.as_str().into(),
        hash: *generated.hash.as_bytes(),
        name: "from elsewhere".into(),
        owner: None,
        roles: vec!["reader".into()],
        created_at: 100,
        expires_at: None,
        revoked,
        rate_limit: None,
    };
    (generated.plaintext, record)
}

#[test]
fn the_index_follows_writes_made_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let redb = RedbStore::open(dir.path().join("g.redb")).unwrap();
    let store: SharedStore = Arc::new(redb.clone());
    let clock = ManualClock::new(1_000);
    let ring = ring(&store, &clock);
    let (plaintext, mut record) = foreign_key(ring.format(), false);

    // Written straight to the store, as another process sharing it would.
    pollster::block_on(redb.insert_keys(vec![record.clone()])).unwrap();
    assert!(matches!(ring.authenticate(plaintext.as_bytes()), Err(KeyRejection::Unknown)));
    pollster::block_on(ring.sync()).unwrap();
    let principal = ring.authenticate(plaintext.as_bytes()).unwrap();
    assert_eq!((principal.name(), principal.role_names()), ("from elsewhere", &["reader"][..]));

    let read = record.clone();
    record.revoked = true;
    pollster::block_on(redb.update_key(read, record.clone())).unwrap();
    pollster::block_on(ring.sync()).unwrap();
    assert!(matches!(ring.authenticate(plaintext.as_bytes()), Err(KeyRejection::Revoked(_))));

    pollster::block_on(redb.delete_key(record.id.to_string())).unwrap();
    pollster::block_on(ring.sync()).unwrap();
    assert!(matches!(ring.authenticate(plaintext.as_bytes()), Err(KeyRejection::Unknown)));
    assert!(ring.is_empty());
}

#[test]
fn a_wrong_secret_with_a_real_id_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = Arc::new(RedbStore::open(dir.path().join("g.redb")).unwrap());
    let clock = ManualClock::new(1_000);
    let ring = ring(&store, &clock);
    let created = pollster::block_on(ring.create(NewKey::default())).unwrap();
    let real = created.key.expose();
    // Same id, another secret, a valid checksum: a well-formed guess at this key.
    let format = ring.format();
    let guess = format.generate().unwrap().plaintext;
    let forged_body = format!("gk_{}_{}", created.info.id, &guess[16..guess.len() - 6]);
    let sum = crate::random::base62_fixed::<6>(u64::from(crc32fast::hash(forged_body.as_bytes())));
    let forged = format!("{forged_body}{}", String::from_utf8(sum.to_vec()).unwrap());
    assert!(format.parse(forged.as_bytes()).is_ok(), "well-formed");
    assert!(matches!(ring.authenticate(forged.as_bytes()), Err(KeyRejection::Unknown)));
    assert!(ring.authenticate(real.as_bytes()).is_ok());
    clock.advance(16 * DAY);
    assert!(matches!(ring.authenticate(real.as_bytes()), Err(KeyRejection::Expired(_))));
}
