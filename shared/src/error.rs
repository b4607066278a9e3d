//! The domain error: what went wrong, in terms a caller can act on, with no
//! knowledge of HTTP. [`crate::http::problem`] maps it to problem+json in one place.

use serde::Serialize;

/// A boxed error source, kept for the logs and never shown to callers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One violated rule of one input field. `field` is a dotted path into the
/// body (`contactInformation.email`), or a query/path parameter name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks one or more rules; every violation is listed.
    #[error("invalid input: {} error(s)", .0.len())]
    Invalid(Vec<FieldError>),

    /// The resource does not exist (or the caller may not know it exists).
    #[error("{kind} '{id}' was not found")]
    NotFound { kind: &'static str, id: String },

    /// The resource existed and has been purged; a tombstone remembers it.
    #[error("{kind} '{id}' was purged")]
    Gone { kind: &'static str, id: String },

    /// The caller may see the resource but not do this (missing permission
    /// or a role too low on the tenant).
    #[error("{0}")]
    Forbidden(String),

    /// The request conflicts with the current state (duplicate name, wrong
    /// lifecycle state, concurrent change).
    #[error("{0}")]
    Conflict(String),

    /// Well-formed but unusable: an idempotency key reused with another body.
    #[error("{0}")]
    Unprocessable(String),

    /// `If-Match` named a version that is not the current one.
    #[error("version {expected} is not current (current is {current})")]
    PreconditionFailed { expected: u64, current: u64 },

    /// DynamoDB throttled us; the caller should retry after a pause.
    #[error("throttled by the database")]
    Throttled,

    /// The database did not answer in time or could not be reached.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),

    /// A bug or an unexpected answer; details go to the log only.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
