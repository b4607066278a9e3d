//! Tenant use cases: create, read, list, replace, patch, retire, restore, delete.
//!
//! Every update is read → change → write-if-version-unchanged. A write that
//! loses a race is retried on the new state (a caller without `If-Match`
//! asked for "the current one"), or answers 412 when the caller named a
//! version that is no longer current.

use serde_json::{Map, Value};

use super::Expected;
use crate::domain::merge_patch;
use crate::domain::tenant::{Change, InputMode};
use crate::domain::{Tenant, TenantId, TenantInput};
use crate::error::{Error, Result};
use crate::store::tenants::WriteFailure;
use crate::store::{ListPosition, Page, Store, TenantListQuery};

/// Attempts of a read-change-write before giving up with 409.
const ATTEMPTS: usize = 3;

#[tracing::instrument(skip_all, fields(tenant_id))]
pub async fn create(store: &Store, input: TenantInput, change: &Change) -> Result<Tenant> {
    let id = input.tenant_id.clone().unwrap_or_else(TenantId::generate);
    tracing::Span::current().record("tenant_id", id.as_str());
    let tenant = Tenant::create(input, id, change);
    store.create_tenant(&tenant).await?;
    Ok(tenant)
}

pub async fn get(store: &Store, id: &TenantId) -> Result<Tenant> {
    store.get_tenant(id).await?.ok_or_else(|| Error::NotFound {
        kind: "tenant",
        id: id.to_string(),
    })
}

pub async fn list(store: &Store, query: &TenantListQuery, from: Option<&ListPosition>) -> Result<Page<Tenant>> {
    store.list_tenants(query, from).await
}

pub async fn replace(
    store: &Store,
    id: &TenantId,
    input: TenantInput,
    expected: Option<&Expected>,
    change: &Change,
) -> Result<Tenant> {
    update(store, id, expected, |current| current.replaced(input.clone(), change)).await
}

/// Applies a JSON Merge Patch to the tenant's writable fields, then
/// validates the result as a whole (every error listed).
pub async fn patch(
    store: &Store,
    id: &TenantId,
    patch: &Map<String, Value>,
    expected: Option<&Expected>,
    change: &Change,
) -> Result<Tenant> {
    let patch = Value::Object(patch.clone());
    update(store, id, expected, |current| {
        current.ensure_changeable()?;
        let mut document = current.writable_document();
        merge_patch::apply(&mut document, &patch);
        let Value::Object(fields) = document else {
            unreachable!("an object patched by an object stays an object")
        };
        let input = TenantInput::parse(&fields, InputMode::Replace).map_err(Error::Invalid)?;
        current.replaced(input, change)
    })
    .await
}

pub async fn retire(
    store: &Store,
    id: &TenantId,
    reason: Option<String>,
    expected: Option<&Expected>,
    change: &Change,
) -> Result<Tenant> {
    update(store, id, expected, |current| current.retired(reason.clone(), change)).await
}

pub async fn restore(store: &Store, id: &TenantId, expected: Option<&Expected>, change: &Change) -> Result<Tenant> {
    update(store, id, expected, |current| current.restored(change)).await
}

pub async fn delete(store: &Store, id: &TenantId, expected: Option<&Expected>) -> Result<()> {
    for _ in 0..ATTEMPTS {
        let current = get(store, id).await?;
        check(expected, &current)?;
        match store.delete_tenant_if_version(&current, current.version).await {
            Ok(()) => return Ok(()),
            Err(WriteFailure::VersionChanged | WriteFailure::NameTaken) => continue,
            Err(WriteFailure::Other(e)) => return Err(e),
        }
    }
    Err(contended(id))
}

/// Read → change → conditional write, retried on a lost race.
async fn update(
    store: &Store,
    id: &TenantId,
    expected: Option<&Expected>,
    change: impl Fn(&Tenant) -> Result<Tenant>,
) -> Result<Tenant> {
    for _ in 0..ATTEMPTS {
        let current = get(store, id).await?;
        check(expected, &current)?;
        let next = change(&current)?;
        if same_fields(&current, &next) {
            return Ok(current);
        }
        match store
            .replace_tenant_if_version(&next, current.version, &current.name.key())
            .await
        {
            Ok(()) => return Ok(next),
            Err(WriteFailure::VersionChanged) => continue,
            Err(WriteFailure::NameTaken) => return Err(WriteFailure::name_taken(&next)),
            Err(WriteFailure::Other(e)) => return Err(e),
        }
    }
    Err(contended(id))
}

fn check(expected: Option<&Expected>, current: &Tenant) -> Result<()> {
    match expected {
        Some(e) if !e.allows(current.version) => Err(Error::PreconditionFailed {
            expected: match e {
                Expected::OneOf(v) => v.first().copied().unwrap_or_default(),
                Expected::Any => current.version,
            },
            current: current.version,
        }),
        _ => Ok(()),
    }
}

/// A change that changes nothing is not written: no new version, no write.
fn same_fields(current: &Tenant, next: &Tenant) -> bool {
    let unstamped = Tenant {
        version: current.version,
        updated_at: current.updated_at,
        updated_by: current.updated_by.clone(),
        ..next.clone()
    };
    unstamped == *current
}

fn contended(id: &TenantId) -> Error {
    Error::Conflict(format!("tenant '{id}' is being changed by other requests; retry"))
}
