//! Migrations of files written by earlier versions, each in the caller's write transaction:
//! version 1 → 2 ([`from_v1`]), 2 → 3 ([`from_v2`]), then 3 → 4 ([`from_v3`]).

mod from_v1;
mod from_v2;
mod from_v3;

pub(super) use self::from_v1::from_v1;
pub(super) use self::from_v2::from_v2;
pub(super) use self::from_v3::from_v3;
