//! Tenant use cases: create, read, list, replace, patch, move, retire,
//! restore, delete, and the hierarchy and history reads.
//!
//! Every change is read → change → one conditional transaction. A write
//! that loses a race is redone on the new state (a caller without `If-Match`
//! asked for "the current one"), or answers 412 when the caller named a
//! version that is no longer current. Work a transaction cannot hold (a
//! moved subtree's paths, a renamed parent's children, a deleted tenant's
//! history) is recorded in the same transaction and done right after.
//!
//! The use cases live by kind: `reads` (get, lookups, lists, hierarchy and
//! history reads), `create`, `update` (replace, patch, and the move or
//! rename either may bring), `lifecycle` (retire, restore), `delete`;
//! `hierarchy` judges where a tenant may go, `reseller` how a new
//! reseller reaches the subtenants, and `plan` says, without I/O, what a
//! change must write.

mod create;
mod delete;
mod hierarchy;
mod lifecycle;
mod plan;
mod reads;
mod reseller;
mod update;

pub use create::{create, Created, CreatedWith, Idempotency, NewTenant};
pub(crate) use delete::remove_unfinished_clone;
pub use delete::{delete, DeleteMode, DeleteReport};
pub use lifecycle::{restore, retire};
pub use reads::{ancestors, count, get, get_by_name, history, list, list_from_offset, visible};
pub use reseller::ResellerPolicy;
pub use update::{patch, replace, Updated};

use crate::domain::{Tenant, TenantId, TenantName};
use crate::error::{Code, Error, Result};
use crate::store::tenants::TenantEntry;
use crate::store::Store;

fn not_found(id: &TenantId) -> Error {
    Error::NotFound {
        kind: "tenant",
        id: id.to_string(),
    }
}

/// An ancestor vanished between two reads: another request is moving or
/// deleting the hierarchy right now.
fn contended(id: &TenantId) -> Error {
    Error::Contended(format!(
        "the ancestors of tenant '{id}' are being changed by other requests"
    ))
}

fn name_taken(name: &TenantName) -> Error {
    Error::Conflict(Code::NameTaken, format!("a tenant named '{name}' already exists"))
}

/// Reads a tenant, whoever asks (for the use cases' own reads).
async fn read(store: &Store, id: &TenantId) -> Result<Tenant> {
    match store.tenant_entry(id).await? {
        TenantEntry::Tenant(tenant) => Ok(*tenant),
        TenantEntry::Purged { .. } => Err(Error::Gone {
            kind: "tenant",
            id: id.to_string(),
        }),
        TenantEntry::Missing => Err(not_found(id)),
    }
}
