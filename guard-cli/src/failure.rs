//! Why a command failed: one line on standard error, exit code 1.

/// A command's failure, said in one line.
#[derive(Debug)]
pub(crate) struct Failure(String);

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        // One line, whatever a cause's text holds.
        Failure(message.into().replace(['\n', '\r'], " "))
    }

    pub(crate) fn message(&self) -> &str {
        &self.0
    }
}

impl From<guard_axum::GuardError> for Failure {
    fn from(error: guard_axum::GuardError) -> Self {
        Failure::new(error.to_string())
    }
}

impl From<guard_axum::StoreError> for Failure {
    fn from(error: guard_axum::StoreError) -> Self {
        Failure::new(error.to_string())
    }
}
