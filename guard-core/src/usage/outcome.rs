//! What a use of a credential was: its outcome and its request method.

use serde::{Deserialize, Serialize};

/// What became of one authentication attempt with a known credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UsageOutcome {
    /// Authenticated and allowed.
    Ok,
    /// The credential was revoked.
    Revoked,
    /// The credential had expired.
    Expired,
    /// Authenticated, but the credential lacks what the route requires.
    Forbidden,
    /// Authenticated, but over the credential's rate limit.
    RateLimited,
}

impl UsageOutcome {
    /// Its stable one-byte code, for storage.
    pub fn code(self) -> u8 {
        match self {
            UsageOutcome::Ok => 0,
            UsageOutcome::Revoked => 1,
            UsageOutcome::Expired => 2,
            UsageOutcome::Forbidden => 3,
            UsageOutcome::RateLimited => 4,
        }
    }

    /// The outcome with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => UsageOutcome::Ok,
            1 => UsageOutcome::Revoked,
            2 => UsageOutcome::Expired,
            3 => UsageOutcome::Forbidden,
            4 => UsageOutcome::RateLimited,
            _ => return None,
        })
    }
}

/// A request method, as usage keeps it: the standard ones by name, anything else as `OTHER`,
/// so that a client inventing methods cannot make the usage tables grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RequestMethod {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// CONNECT
    Connect,
    /// TRACE
    Trace,
    /// Any extension method.
    Other,
}

impl RequestMethod {
    const ALL: [RequestMethod; 10] = [
        RequestMethod::Get,
        RequestMethod::Head,
        RequestMethod::Post,
        RequestMethod::Put,
        RequestMethod::Patch,
        RequestMethod::Delete,
        RequestMethod::Options,
        RequestMethod::Connect,
        RequestMethod::Trace,
        RequestMethod::Other,
    ];

    /// The method's name (`OTHER` for extension methods).
    pub fn as_str(self) -> &'static str {
        match self {
            RequestMethod::Get => "GET",
            RequestMethod::Head => "HEAD",
            RequestMethod::Post => "POST",
            RequestMethod::Put => "PUT",
            RequestMethod::Patch => "PATCH",
            RequestMethod::Delete => "DELETE",
            RequestMethod::Options => "OPTIONS",
            RequestMethod::Connect => "CONNECT",
            RequestMethod::Trace => "TRACE",
            RequestMethod::Other => "OTHER",
        }
    }

    /// Its stable one-byte code, for storage.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The method with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }
}

impl From<&http::Method> for RequestMethod {
    fn from(method: &http::Method) -> Self {
        match *method {
            http::Method::GET => RequestMethod::Get,
            http::Method::HEAD => RequestMethod::Head,
            http::Method::POST => RequestMethod::Post,
            http::Method::PUT => RequestMethod::Put,
            http::Method::PATCH => RequestMethod::Patch,
            http::Method::DELETE => RequestMethod::Delete,
            http::Method::OPTIONS => RequestMethod::Options,
            http::Method::CONNECT => RequestMethod::Connect,
            http::Method::TRACE => RequestMethod::Trace,
            _ => RequestMethod::Other,
        }
    }
}

impl Serialize for RequestMethod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
