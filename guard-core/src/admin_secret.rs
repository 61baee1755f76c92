//! The admin secret: what the admin API accepts in `X-Admin-Secret`.
//!
//! Only its blake3 hash is held; a presented secret is hashed and the hashes compared in
//! constant time (`blake3::Hash`'s equality is constant-time), so neither the comparison's
//! timing nor a memory dump reveals the secret.

/// The hash of the admin secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSecret(blake3::Hash);

impl AdminSecret {
    /// Holds the hash of `secret`.
    pub fn new(secret: &str) -> Self {
        AdminSecret(blake3::hash(secret.as_bytes()))
    }

    /// Whether `presented` is the secret. Constant-time in the secret's content.
    pub fn verify(&self, presented: &[u8]) -> bool {
        blake3::hash(presented) == self.0
    }
}

impl std::fmt::Debug for AdminSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminSecret(<hash>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_secret() {
        let secret = AdminSecret::new("correct horse battery staple");
        assert!(secret.verify(b"correct horse battery staple"));
        assert!(!secret.verify(b"correct horse battery stapl"));
        assert!(!secret.verify(b""));
        assert!(!format!("{secret:?}").contains("horse"));
    }
}
