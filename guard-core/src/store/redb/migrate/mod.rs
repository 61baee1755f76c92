//! Migrations of files written by earlier versions, each in the caller's write transaction:
//! version 1 → 2 ([`from_v1`]), then 2 → 3 ([`from_v2`]).

mod from_v1;
mod from_v2;

pub(super) use self::from_v1::from_v1;
pub(super) use self::from_v2::from_v2;
