//! JSON Web Tokens: verified when issued elsewhere (HS256, RS256 or ES256; `exp`, `nbf`,
//! `iss`, `aud`, with a configurable leeway), and optionally issued by `/auth/token`.
//!
//! `sub` is the principal's id; a roles claim (`roles` unless configured) maps onto the
//! policy's roles, names it does not declare ignored (and logged once). A token whose `sub`
//! is one of this guard's users is that user's: it works only while the user exists and is
//! enabled, with the user's roles as they are now, so disabling a user ends its JWTs too.
//! A token this guard issued also names the user's generation ([`GENERATION_CLAIM`]): a new
//! password, disabling, or deleting the user ends it for good.
//! The algorithm is fixed by the configuration, never taken from the token: `alg: none` and
//! an HS256 token made with an RS256 public key are refused.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

use crate::authz::{Grant, Identity, Policy, Principal, PrincipalKind};
use crate::clock::Timestamp;
use crate::credentials::user::{UserDirectory, UserEntry};
use crate::usage::RateLimiter;

/// The key that signs or verifies tokens, which also fixes the algorithm.
#[derive(Clone)]
#[non_exhaustive]
pub enum JwtKey {
    /// HS256 with a shared secret (at least 32 bytes).
    Hs256(Vec<u8>),
    /// RS256: a public key (PEM) to verify, and the private key (PEM) if this guard issues.
    Rs256 {
        /// PEM of the public key.
        public: Vec<u8>,
        /// PEM of the private key, to issue tokens.
        private: Option<Vec<u8>>,
    },
    /// ES256 (P-256): as RS256.
    Es256 {
        /// PEM of the public key.
        public: Vec<u8>,
        /// PEM of the private key, to issue tokens.
        private: Option<Vec<u8>>,
    },
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwtKey::Hs256(_) => "Hs256(<secret>)",
            JwtKey::Rs256 { .. } => "Rs256(..)",
            JwtKey::Es256 { .. } => "Es256(..)",
        })
    }
}

/// How JWTs are verified and, optionally, issued.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JwtConfig {
    /// The key, and with it the algorithm.
    pub key: JwtKey,
    /// The `iss` required (and written, when issuing).
    pub issuer: Option<String>,
    /// The `aud` required (and written, when issuing).
    pub audience: Option<String>,
    /// Seconds of clock difference allowed on `exp` and `nbf` (default 30).
    pub leeway: u64,
    /// The claim holding role names (default `roles`).
    pub roles_claim: String,
}

impl JwtConfig {
    /// A configuration verifying with `key`, no issuer or audience required.
    pub fn new(key: JwtKey) -> Self {
        JwtConfig { key, issuer: None, audience: None, leeway: 30, roles_claim: "roles".into() }
    }

    /// Requires (and writes) `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Requires (and writes) `aud`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The clock difference allowed, in seconds.
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The claim holding role names.
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.roles_claim = claim.into();
        self
    }
}

/// Why a JWT configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// An HS256 secret shorter than 32 bytes.
    #[error("an HS256 secret must be at least 32 bytes")]
    WeakSecret,
    /// A key that cannot be read.
    #[error("the JWT key cannot be used: {0}")]
    Key(String),
    /// Issuing was asked of a configuration without a private key.
    #[error("this JWT configuration has no key to sign with")]
    CannotIssue,
}

/// Why a presented JWT was not accepted: for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRejection(pub String);

/// Verifies (and issues) JWTs.
pub struct Jwt {
    config: JwtConfig,
    algorithm: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
    /// Role names seen in tokens that the policy does not declare, logged once each.
    logged: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// The identity a JWT from elsewhere proves.
struct Claimed {
    sub: String,
    grant: Grant,
}

impl Identity for Claimed {
    fn id(&self) -> &str {
        &self.sub
    }
    fn name(&self) -> &str {
        &self.sub
    }
    fn kind(&self) -> PrincipalKind {
        PrincipalKind::Jwt
    }
    fn grant(&self) -> &Grant {
        &self.grant
    }
}

/// How many unknown role names are remembered as logged.
const LOGGED_NAMES: usize = 1024;

/// The claim that marks a JWT this guard issued for one of its users, holding the user's
/// generation: such a token works only while the user is of that generation.
pub const GENERATION_CLAIM: &str = "guard_gen";

impl Jwt {
    /// A verifier (and issuer, with a private key or a secret) for `config`.
    pub fn new(config: JwtConfig) -> Result<Self, JwtError> {
        let key_err = |e: jsonwebtoken::errors::Error| JwtError::Key(e.to_string());
        let (algorithm, decoding, encoding) = match &config.key {
            JwtKey::Hs256(secret) => {
                if secret.len() < 32 {
                    return Err(JwtError::WeakSecret);
                }
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(secret),
                    Some(EncodingKey::from_secret(secret)),
                )
            }
            JwtKey::Rs256 { public, private } => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(public).map_err(key_err)?,
                private.as_deref().map(EncodingKey::from_rsa_pem).transpose().map_err(key_err)?,
            ),
            JwtKey::Es256 { public, private } => (
                Algorithm::ES256,
                DecodingKey::from_ec_pem(public).map_err(key_err)?,
                private.as_deref().map(EncodingKey::from_ec_pem).transpose().map_err(key_err)?,
            ),
        };
        let mut validation = Validation::new(algorithm);
        // `exp` and `nbf` are checked here, against the guard's clock, not the library's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &config.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(Jwt { config, algorithm, decoding, encoding, validation, logged: Mutex::default() })
    }

    /// Whether a bearer credential has the shape of a JWT (three base64url parts): JWTs and
    /// this guard's opaque tokens never look alike.
    pub fn looks_like_jwt(token: &[u8]) -> bool {
        let parts = token.split(|&b| b == b'.').count();
        parts == 3
            && token.first() != Some(&b'.')
            && token.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }

    /// Whether this configuration can issue tokens.
    pub fn can_issue(&self) -> bool {
        self.encoding.is_some()
    }

    /// Verifies a token at `now` and returns its principal.
    pub fn verify(
        &self,
        token: &[u8],
        now: Timestamp,
        policy: &Policy,
        users: &UserDirectory,
    ) -> Result<Principal, JwtRejection> {
        let token = std::str::from_utf8(token).map_err(|_| JwtRejection("not UTF-8".into()))?;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &self.validation)
                .map_err(|e| JwtRejection(format!("{:?}", e.kind())))?;
        let claims = data.claims;
        let leeway = i64::try_from(self.config.leeway).unwrap_or(i64::MAX);
        let time = |name: &str| -> Result<Option<i64>, JwtRejection> {
            claims
                .get(name)
                .map(|v| {
                    v.as_i64().ok_or_else(|| JwtRejection(format!("`{name}` is not a number")))
                })
                .transpose()
        };
        match time("exp")? {
            Some(exp) if now <= exp.saturating_add(leeway) => {}
            _ => return Err(JwtRejection("expired".into())),
        }
        if time("nbf")?.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(JwtRejection("not valid yet".into()));
        }
        let Some(Value::String(sub)) = claims.get("sub") else {
            return Err(JwtRejection("`sub` is not a string".into()));
        };
        // Issued by this guard for one of its users: theirs only while that user exists, is
        // enabled and has the generation the token was issued for (a new password or
        // disabling ends it), with the roles they hold now; never the roles it claims.
        if let Some(generation) = claims.get(GENERATION_CLAIM) {
            let user =
                users.get(sub).ok_or_else(|| JwtRejection("the token's user is gone".into()))?;
            return if user.is_enabled() && generation.as_u64() == Some(user.generation().into()) {
                Ok(Principal::from_identity(Arc::new(AsJwt(user))))
            } else {
                Err(JwtRejection("the token's user is disabled or changed".into()))
            };
        }
        // Issued elsewhere about one of this guard's users: theirs while they exist and are
        // enabled, with the roles they hold now.
        if let Some(user) = users.get(sub) {
            return if user.is_enabled() {
                Ok(Principal::from_identity(Arc::new(AsJwt(user))))
            } else {
                Err(JwtRejection("the token's user is disabled".into()))
            };
        }
        let names = role_names(claims.get(&self.config.roles_claim));
        let grant = policy.grant(&names);
        self.log_unknown(&grant.unknown);
        Ok(Principal::from_identity(Arc::new(Claimed { sub: sub.clone(), grant })))
    }

    /// A token for `user`, valid for `lifetime` seconds from `now`, with its roles.
    pub fn issue(
        &self,
        user: &UserEntry,
        now: Timestamp,
        lifetime: i64,
    ) -> Result<String, JwtError> {
        let key = self.encoding.as_ref().ok_or(JwtError::CannotIssue)?;
        let mut claims = Map::new();
        claims.insert("sub".into(), user.user_id().into());
        claims.insert("iat".into(), now.into());
        claims.insert("nbf".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(lifetime).into());
        claims.insert(GENERATION_CLAIM.into(), user.generation().into());
        claims.insert(self.config.roles_claim.clone(), user.user_grant().assigned.clone().into());
        if let Some(issuer) = &self.config.issuer {
            claims.insert("iss".into(), issuer.clone().into());
        }
        if let Some(audience) = &self.config.audience {
            claims.insert("aud".into(), audience.clone().into());
        }
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, key)
            .map_err(|e| JwtError::Key(e.to_string()))
    }

    fn log_unknown(&self, unknown: &[String]) {
        if unknown.is_empty() {
            return;
        }
        let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
        for name in unknown {
            if logged.len() < LOGGED_NAMES && logged.insert(name.clone()) {
                // Debug-formatted: a name from a token is escaped, not written raw to the log.
                tracing::warn!(role = ?name, "a JWT carries a role the policy does not declare; it is ignored");
            }
        }
    }
}

/// A user proved by a JWT: the user's identity, of kind JWT.
struct AsJwt(Arc<UserEntry>);

impl Identity for AsJwt {
    fn id(&self) -> &str {
        self.0.id()
    }
    fn name(&self) -> &str {
        self.0.name()
    }
    fn kind(&self) -> PrincipalKind {
        PrincipalKind::Jwt
    }
    fn grant(&self) -> &Grant {
        self.0.grant()
    }
    fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.0.rate_limiter()
    }
}

/// The role names in a roles claim: an array of strings, or a string of names separated by
/// spaces (as OAuth2's `scope`).
fn role_names(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::Array(items)) => {
            items.iter().filter_map(|v| v.as_str().map(str::to_owned)).take(256).collect()
        }
        Some(Value::String(names)) => {
            names.split_whitespace().take(256).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}
