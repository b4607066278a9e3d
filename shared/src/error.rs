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

/// Declares [`Code`]: each stable code with its wire name and the kind of
/// problem (`type` is `/problems/<kind>`) it belongs to.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $wire:literal in $kind:literal,)*) => {
        /// The stable, machine-readable reason of a problem (its `code`
        /// member): a program branches on it, never on `detail`. A new
        /// failure gets a new code; a code never changes its meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, for the OpenAPI document and its tests.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The wire form (`name_taken`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $wire,)*
                }
            }

            /// The kind of problem: the last segment of `type`.
            pub fn kind(self) -> &'static str {
                match self {
                    $(Code::$variant => $kind,)*
                }
            }

            /// What it means, for the documentation.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!($($doc),*).trim_ascii(),)*
                }
            }
        }
    };
}

codes! {
    /// One or more fields break a rule; `errors` lists every one.
    ValidationFailed = "validation_failed" in "validation-error",
    /// The body is not JSON, not an object, or missing where one is required.
    MalformedBody = "malformed_body" in "bad-request",
    /// A header (`If-Match`, `Idempotency-Key`) is not in its documented form.
    MalformedHeader = "malformed_header" in "bad-request",
    /// An uploaded zip declares more than it may unpack to.
    ZipExpandsTooMuch = "zip_expands_too_much" in "zip-expands-too-much",
    /// No verified caller: send a bearer token.
    Unauthenticated = "unauthenticated" in "unauthorized",
    /// A claim of the token is not a list of whole roles or permissions.
    InvalidClaim = "invalid_claim" in "invalid-claim",
    /// The token does not grant the permission this needs.
    PermissionMissing = "permission_missing" in "forbidden",
    /// The caller's role on the tenant is lower than this needs.
    RoleTooLow = "role_too_low" in "forbidden",
    /// Only a platform admin may do this (a top-level tenant, for one).
    PlatformAdminRequired = "platform_admin_required" in "forbidden",
    /// The token's subject is not a valid user id, so it can hold no membership.
    InvalidSubject = "invalid_subject" in "forbidden",
    /// No such resource, or the caller may not know it exists.
    NotFound = "not_found" in "not-found",
    /// No such route.
    UnknownRoute = "unknown_route" in "not-found",
    /// The tenant existed and was purged.
    Purged = "purged" in "gone",
    /// Another tenant has this name (names compare caseless, NFKC, spaces collapsed).
    NameTaken = "name_taken" in "conflict",
    /// Another tenant has this id.
    IdTaken = "id_taken" in "conflict",
    /// The id belonged to a tenant purged recently; it is free again later.
    IdRecentlyPurged = "id_recently_purged" in "conflict",
    /// Another subtenant of the tenant has this code.
    CodeTaken = "code_taken" in "conflict",
    /// Another identity provider claims this login domain.
    DomainClaimed = "domain_claimed" in "conflict",
    /// The tenant has child tenants or subtenants; delete them first, or force.
    HasChildren = "has_children" in "conflict",
    /// The parent is retired; restore it first.
    ParentRetired = "parent_retired" in "conflict",
    /// The hierarchy would be deeper than it may be.
    TooDeep = "too_deep" in "conflict",
    /// A tenant cannot move under itself or one of its descendants.
    WouldCycle = "would_cycle" in "conflict",
    /// The tenant is retired; restore it before changing it.
    TenantRetired = "tenant_retired" in "conflict",
    /// A clone job is still provisioning the tenant.
    TenantProvisioning = "tenant_provisioning" in "conflict",
    /// The tenant is retired already.
    AlreadyRetired = "already_retired" in "conflict",
    /// Only a retired tenant can be restored.
    NotRetired = "not_retired" in "conflict",
    /// The tenant is being purged and cannot be restored.
    BeingPurged = "being_purged" in "conflict",
    /// The tenant holds the most of these it may hold.
    LimitReached = "limit_reached" in "conflict",
    /// Another request with this `Idempotency-Key` is still running.
    IdempotencyKeyInUse = "idempotency_key_in_use" in "conflict",
    /// `If-Match` named a version that is not the current one (`ETag` has it).
    VersionMismatch = "version_mismatch" in "precondition-failed",
    /// The body is larger than this route accepts.
    PayloadTooLarge = "payload_too_large" in "payload-too-large",
    /// The body's `Content-Type` is not one this route accepts.
    UnsupportedMediaType = "unsupported_media_type" in "unsupported-media-type",
    /// This `Idempotency-Key` was used with another request body.
    IdempotencyKeyReused = "idempotency_key_reused" in "unprocessable",
    /// The database is throttling requests; retry after `Retry-After`.
    Throttled = "throttled" in "throttled",
    /// The database did not answer in time; retry after `Retry-After`.
    Unavailable = "unavailable" in "unavailable",
    /// Other requests kept changing the same items while the server retried; retry after `Retry-After`.
    Contended = "contended" in "unavailable",
    /// A bug or an unexpected answer; quote the request id.
    Internal = "internal" in "internal",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
    #[error("{1}")]
    Forbidden(Code, String),

    /// The request conflicts with the current state (duplicate name, wrong
    /// lifecycle state): something the client chose, never a race the
    /// server could have retried ([`Error::Contended`]).
    #[error("{1}")]
    Conflict(Code, String),

    /// Well-formed but unusable: an idempotency key reused with another body.
    #[error("{1}")]
    Unprocessable(Code, String),

    /// Other requests kept winning the race for the same items through
    /// every retry the server made (a 503 with `Retry-After`, not a 409:
    /// the client did nothing wrong).
    #[error("{0}")]
    Contended(String),

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
