//! The API key format (contract): `<prefix>_<id>_<secret><checksum>`.
//!
//! - `prefix`: lower-case letters and digits, `gk` by default, so keys are recognisable in
//!   logs and by secret scanners;
//! - `id`: 12 base62 characters, public, names the key in the admin API;
//! - `secret`: 43 base62 characters from the OS CSPRNG (256 bits);
//! - `checksum`: 6 base62 characters of the CRC32 of everything before it, so a typo or a
//!   scanner's guess is rejected without touching the store.
//!
//! The plaintext key is returned once at creation; only its blake3 hash is kept.

use crate::random::{self, RandomError};

/// The prefix of API keys unless the application chooses another.
pub const DEFAULT_PREFIX: &str = "gk";

/// Length of a key id.
pub const ID_LEN: usize = 12;
/// Length of the secret part.
pub const SECRET_LEN: usize = 43;
/// Length of the checksum.
pub const CHECKSUM_LEN: usize = 6;

/// The shape of this application's keys: their prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFormat {
    prefix: String,
}

/// A prefix that keys cannot carry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a key prefix must be 1 to 16 lower-case ASCII letters or digits, got {0:?}")]
pub struct InvalidPrefix(pub String);

/// A string that is not a well-formed key. Deliberately carries no detail: every malformed key
/// is answered alike.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed API key")]
pub struct MalformedKey;

/// A well-formed key, borrowed from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    /// The public id.
    pub id: &'a str,
    /// `<id>_<secret>`: what gets hashed. The prefix is the same for every key and the
    /// checksum follows from the rest, so neither adds anything; leaving them out keeps the
    /// input within one 64-byte blake3 block, half the cost of hashing the whole key.
    pub hashed: &'a [u8],
}

/// A freshly generated key: show `plaintext` to its owner once, keep `hash`.
#[non_exhaustive]
pub struct GeneratedKey {
    /// The public id.
    pub id: String,
    /// The whole key. Never stored, never logged.
    pub plaintext: String,
    /// blake3 of [`ParsedKey::hashed`]: what is stored.
    pub hash: blake3::Hash,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Default for KeyFormat {
    fn default() -> Self {
        KeyFormat { prefix: DEFAULT_PREFIX.to_owned() }
    }
}

impl KeyFormat {
    /// A format with the given prefix.
    pub fn new(prefix: &str) -> Result<Self, InvalidPrefix> {
        let valid = (1..=16).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid {
            return Err(InvalidPrefix(prefix.to_owned()));
        }
        Ok(KeyFormat { prefix: prefix.to_owned() })
    }

    /// The prefix, without its trailing `_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What the admin API shows of a key: `<prefix>_<id>`.
    pub fn display_prefix(&self, id: &str) -> String {
        format!("{}_{id}", self.prefix)
    }

    /// The total length of every key in this format.
    pub fn key_len(&self) -> usize {
        self.prefix.len() + 1 + ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN
    }

    /// A new key with a fresh random id.
    pub fn generate(&self) -> Result<GeneratedKey, RandomError> {
        let id = random::base62(ID_LEN)?;
        let secret = random::base62(SECRET_LEN)?;
        let hash = hash_key(format!("{id}_{secret}").as_bytes());
        let mut plaintext = format!("{}_{id}_{secret}", self.prefix);
        let sum = checksum(plaintext.as_bytes());
        plaintext.extend(sum.map(char::from));
        Ok(GeneratedKey { id, plaintext, hash })
    }

    /// Checks the shape and checksum of `raw` without any store access. Accepts bytes, since
    /// a header value need not be UTF-8.
    pub fn parse<'a>(&self, raw: &'a [u8]) -> Result<ParsedKey<'a>, MalformedKey> {
        // Every request with a key comes through here: one pass over fixed offsets.
        let p = self.prefix.len();
        let shaped = raw.len() == self.key_len()
            && raw.starts_with(self.prefix.as_bytes())
            && raw[p] == b'_'
            && raw[p + 1 + ID_LEN] == b'_';
        if !shaped {
            return Err(MalformedKey);
        }
        let (body, sum) = raw.split_at(raw.len() - CHECKSUM_LEN);
        let id = &body[p + 1..p + 1 + ID_LEN];
        let secret = &body[p + 2 + ID_LEN..];
        if !is_base62(id) || !is_base62(secret) || !is_base62(sum) {
            return Err(MalformedKey);
        }
        if checksum(body) != sum {
            return Err(MalformedKey);
        }
        // All ASCII by now, so this cannot fail.
        let id = std::str::from_utf8(id).map_err(|_| MalformedKey)?;
        Ok(ParsedKey { id, hashed: &body[p + 1..] })
    }
}

/// The blake3 hash under which a key is stored and looked up: of [`ParsedKey::hashed`].
pub fn hash_key(hashed: &[u8]) -> blake3::Hash {
    blake3::hash(hashed)
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
        let format = KeyFormat::default();
        let key = format.generate().unwrap();
        assert_eq!(key.plaintext.len(), format.key_len());
        assert!(key.plaintext.starts_with(&format!("gk_{}_", key.id)));
        let parsed = format.parse(key.plaintext.as_bytes()).unwrap();
        assert_eq!(parsed.id, key.id);
        assert_eq!(hash_key(parsed.hashed), key.hash);
        assert_eq!(parsed.hashed.len(), ID_LEN + 1 + SECRET_LEN);
        assert!(parsed.hashed.len() <= 64, "one blake3 block");
    }

    #[test]
    fn malformed_keys_are_rejected_before_any_lookup() {
        let format = KeyFormat::default();
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
                Err(MalformedKey),
                "{:?}",
                String::from_utf8_lossy(&case)
            );
        }
    }

    #[test]
    fn prefixes_are_validated() {
        assert!(KeyFormat::new("acme").is_ok());
        assert!(KeyFormat::new("").is_err());
        assert!(KeyFormat::new("a_b").is_err());
        assert!(KeyFormat::new("Upper").is_err());
        let format = KeyFormat::new("acme2").unwrap();
        let key = format.generate().unwrap();
        assert!(format.parse(key.plaintext.as_bytes()).is_ok());
        assert!(KeyFormat::default().parse(key.plaintext.as_bytes()).is_err());
    }
}
