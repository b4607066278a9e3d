//! The tenant model and the rules that build it from untrusted input.
//!
//! Values here are valid by construction: parsers take JSON and return either
//! the typed value or every [`FieldError`](crate::FieldError) they found.

pub mod audit;
pub mod deployment;
pub mod events;
#[cfg(test)]
pub(crate) mod field_names;
pub mod identity_provider;
pub mod input;
pub mod member;
pub mod merge_patch;
pub mod query;
pub mod subtenant;
pub mod tenant;
pub mod time;
pub mod values;
pub mod zip;

pub use tenant::{Environment, Status, Tenant, TenantInput, TenantType};
pub use time::Timestamp;
pub use values::{DomainName, EmailAddress, SubtenantCode, Tag, TenantId, TenantName, UserId};
