//! The opaque credential format (contract), shared by API keys, sessions and bearer tokens:
//! `<prefix>_<id>_<secret><checksum>`.
//!
//! - `prefix`: lower-case letters and digits (`gk` for API keys by default, `gs` for
//!   sessions, `gt` for bearer tokens), so credentials are recognisable in logs and by secret
//!   scanners;
//! - `id`: 12 base62 characters, public, names the credential in the admin API;
//! - `secret`: 43 base62 characters from the OS CSPRNG (256 bits);
//! - `checksum`: 6 base62 characters of the CRC32 of everything before it, so a typo or a
//!   scanner's guess is rejected without a lookup.
//!
//! The plaintext is returned once, when the credential is made; only the blake3 hash of
//! `<id>_<secret>` is kept, and in memory only its first 128 bits.

use std::borrow::Cow;

use crate::random::{self, RandomError};

/// The prefix of API keys unless the application chooses another.
pub const DEFAULT_PREFIX: &str = "gk";

/// Length of a key id.
pub const ID_LEN: usize = 12;
/// Length of the secret part.
pub const SECRET_LEN: usize = 43;
/// Length of the checksum.
pub const CHECKSUM_LEN: usize = 6;

/// The shape of one kind of credential: its prefix. The default is the API key format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFormat {
    prefix: Cow<'static, str>,
}

/// A prefix that credentials cannot carry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a key prefix must be 1 to 16 lower-case ASCII letters or digits, got {0:?}")]
pub struct InvalidPrefix(pub String);

/// A string that is not a well-formed credential. Deliberately carries no detail: every
/// malformed credential is answered alike.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed credential")]
pub struct MalformedCredential;

/// A well-formed credential, borrowed from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedCredential<'a> {
    /// The public id.
    pub id: &'a str,
    /// `<id>_<secret>`: what gets hashed. The prefix is the same for every credential of a
    /// kind and the checksum follows from the rest, so neither adds anything; leaving them out
    /// keeps the input within one 64-byte blake3 block, half the cost of hashing it all.
    pub hashed: &'a [u8],
}

/// A freshly generated credential: show `plaintext` to its holder once, keep `hash`.
#[non_exhaustive]
pub struct GeneratedCredential {
    /// The public id.
    pub id: String,
    /// The whole credential. Never stored, never logged.
    pub plaintext: String,
    /// blake3 of [`ParsedCredential::hashed`]: what is stored.
    pub hash: blake3::Hash,
}

impl std::fmt::Debug for GeneratedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCredential").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Default for CredentialFormat {
    fn default() -> Self {
        CredentialFormat::fixed(DEFAULT_PREFIX)
    }
}

impl CredentialFormat {
    /// A format with the given prefix.
    pub fn new(prefix: &str) -> Result<Self, InvalidPrefix> {
        let valid = (1..=16).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid {
            return Err(InvalidPrefix(prefix.to_owned()));
        }
        Ok(CredentialFormat { prefix: Cow::Owned(prefix.to_owned()) })
    }

    /// One of guard's own formats, whose prefix is known to be valid.
    pub(crate) const fn fixed(prefix: &'static str) -> Self {
        CredentialFormat { prefix: Cow::Borrowed(prefix) }
    }

    /// The prefix, without its trailing `_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What the admin API shows of a credential: `<prefix>_<id>`.
    pub fn display_prefix(&self, id: &str) -> String {
        format!("{}_{id}", self.prefix)
    }

    /// The total length of every credential in this format.
    pub fn credential_len(&self) -> usize {
        self.prefix.len() + 1 + ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN
    }

    /// A new credential with a fresh random id.
    pub fn generate(&self) -> Result<GeneratedCredential, RandomError> {
        let id = random::base62(ID_LEN)?;
        let secret = random::base62(SECRET_LEN)?;
        let hash = hash_secret(format!("{id}_{secret}").as_bytes());
        let mut plaintext = format!("{}_{id}_{secret}", self.prefix);
        let sum = checksum(plaintext.as_bytes());
        plaintext.extend(sum.map(char::from));
        Ok(GeneratedCredential { id, plaintext, hash })
    }

    /// Checks the shape and checksum of `raw` without any store access. Accepts bytes, since
    /// a header value need not be UTF-8.
    pub fn parse<'a>(&self, raw: &'a [u8]) -> Result<ParsedCredential<'a>, MalformedCredential> {
        // Every request with a credential comes through here: one pass over fixed offsets.
        let p = self.prefix.len();
        let shaped = raw.len() == self.credential_len()
            && raw.starts_with(self.prefix.as_bytes())
            && raw[p] == b'_'
            && raw[p + 1 + ID_LEN] == b'_';
        if !shaped {
            return Err(MalformedCredential);
        }
        let (body, sum) = raw.split_at(raw.len() - CHECKSUM_LEN);
        let id = &body[p + 1..p + 1 + ID_LEN];
        let secret = &body[p + 2 + ID_LEN..];
        if !is_base62(id) || !is_base62(secret) || !is_base62(sum) {
            return Err(MalformedCredential);
        }
        if checksum(body) != sum {
            return Err(MalformedCredential);
        }
        // All ASCII by now, so this cannot fail.
        let id = std::str::from_utf8(id).map_err(|_| MalformedCredential)?;
        Ok(ParsedCredential { id, hashed: &body[p + 1..] })
    }
}

/// The blake3 hash under which a credential is stored: of [`ParsedCredential::hashed`].
pub fn hash_secret(hashed: &[u8]) -> blake3::Hash {
    blake3::hash(hashed)
}

/// The first 128 bits of a credential's blake3 hash: what the in-memory indexes keep (the
/// store keeps all 256). Finding a secret that matches them would take 2^128 hashes, and
/// half the bytes per credential count at a million of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HashHead([u8; 16]);

impl HashHead {
    /// The head of a stored hash.
    pub(crate) fn of(hash: &[u8; 32]) -> Self {
        let mut head = [0; 16];
        head.copy_from_slice(&hash[..16]);
        HashHead(head)
    }

    /// Whether `hash` (of a presented credential's secret part) has this head, compared in
    /// constant time: how long it takes says nothing about how many bytes matched.
    pub(crate) fn matches(&self, hash: &blake3::Hash) -> bool {
        constant_time_eq::constant_time_eq_16(&self.0, &HashHead::of(hash.as_bytes()).0)
    }
}

/// For a well-formed credential whose id names nothing: the same hash and comparison a known
/// id with a wrong secret costs, so that the time of a refusal does not tell which ids exist.
/// Never matches (no secret hashes to all zeros but by a blake3 break).
pub(crate) fn hash_for_nothing(hashed: &[u8]) -> bool {
    const NOTHING: HashHead = HashHead([0; 16]);
    std::hint::black_box(NOTHING.matches(&hash_secret(hashed)))
}

/// The indexes' hash of a credential id (FNV-1a). Ids are generated by the server, so a
/// client can choose what it looks up but never what is stored: lookups cannot be made to
/// collide.
pub(crate) fn id_hash(id: &[u8]) -> u64 {
    id.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The base62 alphabet is exactly the ASCII letters and digits.
///
/// Without branches: the characters of a key are random, so a branch per character would be
/// mispredicted about half the time, which made this check cost more than the hash.
fn is_base62(s: &[u8]) -> bool {
    s.iter().fold(true, |ok, &b| ok & BASE62_BYTE[usize::from(b)])
}

/// Which bytes are base62 digits.
const BASE62_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    random::base62_fixed(u64::from(crc32fast::hash(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        let format = CredentialFormat::default();
        let key = format.generate().unwrap();
        assert_eq!(key.plaintext.len(), format.credential_len());
        assert!(key.plaintext.starts_with(&format!("gk_{}_", key.id)));
        let parsed = format.parse(key.plaintext.as_bytes()).unwrap();
        assert_eq!(parsed.id, key.id);
        assert_eq!(hash_secret(parsed.hashed), key.hash);
        assert_eq!(parsed.hashed.len(), ID_LEN + 1 + SECRET_LEN);
        assert!(parsed.hashed.len() <= 64, "one blake3 block");
    }

    #[test]
    fn malformed_keys_are_rejected_before_any_lookup() {
        let format = CredentialFormat::default();
        let key = format.generate().unwrap().plaintext;
        let mut typo = key.clone().into_bytes();
        let i = typo.len() - 10;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        let wrong_prefix = key.replacen("gk_", "xk_", 1);
        let cases: Vec<Vec<u8>> = vec![
            typo,
            wrong_prefix.into_bytes(),
            key.as_bytes()[..key.len() - 1].to_vec(),
            format!("{key}0").into_bytes(),
            key.replacen('_', "-", 2).into_bytes(),
            {
                let mut v = key.clone().into_bytes();
                v[20] = 0xff;
                v
            },
            vec![b'a'; 16 * 1024],
            Vec::new(),
        ];
        for case in cases {
            assert_eq!(
                format.parse(&case),
                Err(MalformedCredential),
                "{:?}",
                String::from_utf8_lossy(&case)
            );
        }
    }

    #[test]
    fn hash_heads_match_only_their_hash() {
        let hash = hash_secret(b"abc_def");
        let head = HashHead::of(hash.as_bytes());
        assert!(head.matches(&hash));
        assert!(!head.matches(&hash_secret(b"abc_deg")));
        let mut near = *hash.as_bytes();
        near[15] ^= 1;
        assert!(!head.matches(&blake3::Hash::from_bytes(near)), "the last byte of the head counts");
        near = *hash.as_bytes();
        near[16] ^= 1;
        assert!(head.matches(&blake3::Hash::from_bytes(near)), "bytes past the head do not");
    }

    #[test]
    fn prefixes_are_validated() {
        assert!(CredentialFormat::new("acme").is_ok());
        assert!(CredentialFormat::new("").is_err());
        assert!(CredentialFormat::new("a_b").is_err());
        assert!(CredentialFormat::new("Upper").is_err());
        let format = CredentialFormat::new("acme2").unwrap();
        let key = format.generate().unwrap();
        assert!(format.parse(key.plaintext.as_bytes()).is_ok());
        assert!(CredentialFormat::default().parse(key.plaintext.as_bytes()).is_err());
    }
}
