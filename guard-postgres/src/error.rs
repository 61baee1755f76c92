//! sqlx's errors as the store seam's: what means "the database cannot be reached now" (a
//! write answers 503 and is worth retrying) apart from what is a real failure.

use guard_core::store::StoreError;

/// The SQLSTATE classes and codes that mean the database is not there, for now: a
/// connection exception (class 08), an operator's or a crash's shutdown, a server starting,
/// too many connections, a statement cancelled by the statement timeout.
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "57014")
}

/// Whether an error means the database cannot be reached now.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

/// The store error for a failed query.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if is_unavailable(&error) {
        StoreError::Unavailable(Box::new(error))
    } else {
        StoreError::Backend(Box::new(error))
    }
}

/// Whether `error` is a unique violation of `constraint`.
pub(crate) fn violates(error: &sqlx::Error, constraint: &str) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.code().as_deref() == Some("23505") && db.constraint() == Some(constraint))
}
