//! Use cases: what each route does, in domain terms, over the [`Store`](crate::store::Store).

pub mod access;
pub mod cleanup;
pub mod contention;
pub mod deployments;
pub mod feed;
pub mod identity_providers;
pub mod jobs;
pub mod members;
pub mod notify;
pub mod pending;
pub mod subtenants;
pub mod tenants;

/// The versions a write may find (from `If-Match`); `None` means "whatever
/// is current", which still never overwrites a concurrent change silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Any,
    OneOf(Vec<u64>),
}

impl Expected {
    pub fn allows(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(versions) => versions.contains(&version),
        }
    }
}

/// The `If-Match` check of a write: 412 when the caller named versions and
/// the current one is not among them; no expectation passes.
pub(crate) fn require_expected_version(expected: Option<&Expected>, current: u64) -> crate::error::Result<()> {
    match expected {
        Some(e) if !e.allows(current) => Err(crate::error::Error::PreconditionFailed {
            expected: match e {
                Expected::OneOf(v) => v.first().copied().unwrap_or_default(),
                Expected::Any => current,
            },
            current,
        }),
        _ => Ok(()),
    }
}
