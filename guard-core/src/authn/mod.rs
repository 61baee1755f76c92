//! Who is calling: the authenticator contract and the chain that runs authenticators in
//! position order.

pub mod authenticator;
pub mod chain;

pub use self::authenticator::{
    AuthContext, AuthRequest, Authenticator, Carrier, Description, Outcome, Rejected, Verdict,
    positions,
};
pub use self::chain::{Chain, Progress};
