//! Use cases: what each route does, in domain terms, over the [`Store`](crate::store::Store).

pub mod access;
pub mod change_events;
pub mod cleanup;
pub mod contention;
pub mod deployments;
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
