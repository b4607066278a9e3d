//! Subtenant use cases: create (with a derived, unique code), read, list,
//! replace, patch, delete; and the reseller propagation of Netaxis.

use serde_json::{Map, Value};

use super::contention::{self, Retry};
use super::{access, require_expected_version, Expected};
use crate::auth::{Caller, TenantRole};
use crate::domain::subtenant::{Subtenant, SubtenantInput, SubtenantRef};
use crate::domain::tenant::Stamp;
use crate::domain::{SubtenantCode, Tenant, TenantId};
use crate::error::{Code, Error, Result};
use crate::store::subtenants::{SubtenantOrder, SubtenantPage, SubtenantPosition};
use crate::store::tenants::WriteFailure;
use crate::store::Store;

fn not_found(tenant_id: &TenantId, id: &str) -> Error {
    Error::NotFound {
        kind: "subtenant",
        id: format!("{id}' of tenant '{tenant_id}"),
    }
}

fn code_taken(code: &SubtenantCode) -> Error {
    Error::Conflict(
        Code::CodeTaken,
        format!("a subtenant of this tenant already has the code '{code}'"),
    )
}

/// The smallest free code for a name: its slug, else the slug with the
/// smallest free numeric suffix (`acme`, `acme-2`, `acme-3`, …).
async fn derived_code(store: &Store, tenant_id: &TenantId, name: &str) -> Result<SubtenantCode> {
    let slug = SubtenantCode::slug(name);
    let taken = store.codes_with_prefix(tenant_id, slug.as_str()).await?;
    if !taken.iter().any(|c| c == slug.as_str()) {
        return Ok(slug);
    }
    let suffixes: std::collections::HashSet<u32> = taken
        .iter()
        .filter_map(|c| c.strip_prefix(slug.as_str())?.strip_prefix('-')?.parse().ok())
        .collect();
    let free = (2..).find(|n| !suffixes.contains(n)).expect("some suffix is free");
    Ok(slug.with_suffix(free))
}

/// Creates a subtenant under a tenant the caller may write to.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn create(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    input: SubtenantInput,
    change: &Stamp,
) -> Result<(Subtenant, Tenant)> {
    let mut tenant = access::tenant(store, caller, tenant_id, TenantRole::Operator).await?;
    let mut retry = Retry::new();
    while retry.next().await {
        tenant.ensure_changeable()?;
        let code = match &input.code {
            // Taken already (by the winner of a race this one lost, say):
            // a conflict to answer now, not a transaction to contend for.
            Some(code) if store.subtenant_id_by_code(tenant_id, code).await?.is_some() => return Err(code_taken(code)),
            Some(code) => code.clone(),
            None => derived_code(store, tenant_id, input.name.as_str()).await?,
        };
        let subtenant = Subtenant::create(tenant_id.clone(), input.clone(), code, change);
        match store.create_subtenant(&tenant, &subtenant).await {
            Ok(()) => return Ok((subtenant, tenant)),
            Err(WriteFailure::NameTaken) if input.code.is_some() => return Err(code_taken(&subtenant.code)),
            // A derived code taken meanwhile: derive again.
            Err(WriteFailure::NameTaken | WriteFailure::Contended | WriteFailure::VersionChanged) => {}
            Err(WriteFailure::HierarchyChanged) => {
                tenant = store.get_tenant(tenant_id).await?.ok_or_else(|| Error::NotFound {
                    kind: "tenant",
                    id: tenant_id.to_string(),
                })?;
            }
            Err(WriteFailure::Other(e)) => return Err(e),
            Err(WriteFailure::AlreadyExists | WriteFailure::IdempotencyKeyUsed | WriteFailure::ExtraFailed(_)) => {}
        }
    }
    Err(contention::exhausted(
        format_args!("the subtenants of '{tenant_id}'"),
        &retry,
    ))
}

/// The id of the subtenant a path names (by id, or by code through its guard).
async fn resolve(store: &Store, tenant_id: &TenantId, subtenant: &SubtenantRef) -> Result<String> {
    match subtenant {
        SubtenantRef::Id(id) => Ok(id.clone()),
        SubtenantRef::Code(code) => store
            .subtenant_id_by_code(tenant_id, code)
            .await?
            .ok_or_else(|| not_found(tenant_id, code.as_str())),
    }
}

#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn get(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    subtenant: &SubtenantRef,
) -> Result<(Subtenant, Tenant)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    let id = resolve(store, tenant_id, subtenant).await?;
    let subtenant = store
        .get_subtenant(tenant_id, &id)
        .await?
        .ok_or_else(|| not_found(tenant_id, subtenant.as_str()))?;
    Ok((subtenant, tenant))
}

/// The subtenants of a list request: how many, in which order, from where,
/// and whether to count them all.
pub struct ListRequest<'a> {
    pub order: SubtenantOrder,
    pub descending: bool,
    pub limit: usize,
    pub from: Option<&'a SubtenantPosition>,
    /// `offset` paging (compatibility): the page that starts this many
    /// subtenants in (instead of `from`).
    pub offset: Option<usize>,
    pub include_total: bool,
}

/// A page of a tenant's subtenants, their total if asked for, and the tenant
/// (for its name). The page and the count are read at the same time, once
/// the caller is known to see the tenant: one round trip, not two. An
/// `offset` walks the pages before it only then too: a caller who cannot see
/// the tenant costs the access check's reads, however far it asks to skip.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn list(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    request: ListRequest<'_>,
) -> Result<(SubtenantPage, Option<u64>, Tenant)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    let walked;
    let from = match request.offset {
        None => request.from,
        Some(offset) => match position_at(store, tenant_id, request.order, request.descending, offset).await? {
            Some(position) => {
                walked = position;
                walked.as_ref()
            }
            // Past the end: an empty page.
            None => {
                let total = match request.include_total {
                    true => Some(store.count_subtenants(tenant_id).await?),
                    false => None,
                };
                return Ok(((Vec::new(), None), total, tenant));
            }
        },
    };
    let page = store.list_subtenants(tenant_id, request.order, request.descending, request.limit, from);
    if !request.include_total {
        return Ok((page.await?, None, tenant));
    }
    let (page, total) = futures_util::future::join(page, store.count_subtenants(tenant_id)).await;
    Ok((page?, Some(total?), tenant))
}

/// The position `offset` subtenants in (`None` inside: from the start), or
/// `None` if there are no more than that: the pages before it are read and
/// dropped. Only for a caller known to see the tenant.
async fn position_at(
    store: &Store,
    tenant_id: &TenantId,
    order: SubtenantOrder,
    descending: bool,
    offset: usize,
) -> Result<Option<Option<SubtenantPosition>>> {
    let mut skipped = 0;
    let mut from = None;
    while skipped < offset {
        let (items, next) = store
            .list_subtenants(tenant_id, order, descending, (offset - skipped).min(100), from.as_ref())
            .await?;
        skipped += items.len();
        match next {
            Some(next) => from = Some(next),
            None => return Ok(None),
        }
    }
    Ok(Some(from))
}

/// Reads of the global list a page may make when it filters (bounded cost).
const MAX_CALLS: usize = 4;

/// A page of every subtenant the caller may see, by creation, with their
/// tenants. A non-admin's page keeps the subtenants of tenants it sees (and
/// may come back short, with a cursor, when most are not).
pub async fn list_all(
    store: &Store,
    caller: &Caller,
    descending: bool,
    limit: usize,
    from: Option<&SubtenantPosition>,
) -> Result<(Vec<(Subtenant, Tenant)>, Option<SubtenantPosition>)> {
    let mut found = Vec::new();
    let mut position = from.cloned();
    for _ in 0..MAX_CALLS {
        let (batch, next) = store
            .list_all_subtenants(descending, limit - found.len(), position.as_ref())
            .await?;
        let ids: Vec<TenantId> = batch.iter().map(|s| s.tenant_id.clone()).collect();
        let tenants = store.get_tenants(&ids).await?;
        for subtenant in batch {
            let Some(tenant) = tenants.get(&subtenant.tenant_id) else {
                continue;
            };
            if access::role_on(store, caller, tenant).await?.is_some() {
                found.push((subtenant, tenant.clone()));
            }
        }
        position = next;
        if position.is_none() || found.len() == limit {
            break;
        }
    }
    Ok((found, position))
}

async fn update(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    subtenant: &SubtenantRef,
    expected: Option<&Expected>,
    edit: impl Fn(&Subtenant) -> Result<Subtenant>,
) -> Result<(Subtenant, Tenant)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Operator).await?;
    // A retired (or provisioning) tenant's groups are frozen with it.
    tenant.ensure_changeable()?;
    let id = &resolve(store, tenant_id, subtenant).await?;
    let mut retry = Retry::new();
    while retry.next().await {
        let current = store
            .get_subtenant(tenant_id, id)
            .await?
            .ok_or_else(|| not_found(tenant_id, id))?;
        require_expected_version(expected, current.version)?;
        let next = edit(&current)?;
        if !current.differs(&next) {
            return Ok((current, tenant));
        }
        match store.update_subtenant_if_version(&tenant, &current, &next).await {
            Ok(()) => return Ok((next, tenant)),
            Err(WriteFailure::NameTaken) => return Err(code_taken(&next.code)),
            Err(WriteFailure::Other(e)) => return Err(e),
            Err(_) => continue,
        }
    }
    Err(contention::exhausted(format_args!("subtenant '{id}'"), &retry))
}

#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn replace(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    subtenant: &SubtenantRef,
    input: SubtenantInput,
    expected: Option<&Expected>,
    change: &Stamp,
) -> Result<(Subtenant, Tenant)> {
    update(store, caller, tenant_id, subtenant, expected, |current| {
        Ok(current.replaced(input.clone(), change))
    })
    .await
}

/// JSON Merge Patch of the writable fields, validated as a whole.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn patch(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    subtenant: &SubtenantRef,
    patch: &Map<String, Value>,
    expected: Option<&Expected>,
    change: &Stamp,
) -> Result<(Subtenant, Tenant)> {
    update(store, caller, tenant_id, subtenant, expected, |current| {
        let input = current.patched_input(patch).map_err(Error::Invalid)?;
        Ok(current.replaced(input, change))
    })
    .await
}

/// Deletes a subtenant (tenant admins only).
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn delete(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    subtenant: &SubtenantRef,
    expected: Option<&Expected>,
) -> Result<()> {
    let mut tenant = access::tenant(store, caller, tenant_id, TenantRole::Admin).await?;
    tenant.ensure_changeable()?;
    let id = &resolve(store, tenant_id, subtenant).await?;
    let mut retry = Retry::new();
    while retry.next().await {
        let Some(current) = store.get_subtenant(tenant_id, id).await? else {
            return Err(not_found(tenant_id, id));
        };
        require_expected_version(expected, current.version)?;
        match store.delete_subtenant_if_version(&tenant, &current).await {
            Ok(()) => return Ok(()),
            Err(WriteFailure::Other(e)) => return Err(e),
            Err(WriteFailure::HierarchyChanged) => {
                tenant = store
                    .get_tenant(tenant_id)
                    .await?
                    .ok_or_else(|| not_found(tenant_id, id))?;
            }
            Err(_) => continue,
        }
    }
    Err(contention::exhausted(format_args!("subtenant '{id}'"), &retry))
}

/// Netaxis' reseller propagation after a tenant's `resellerId` changed from
/// `old` to `new`: subtenants that had `old` get `new` (with `force`: every
/// subtenant gets `new`). Returns how many it changed; changing one that
/// changed meanwhile is left (it is read again on a repeated run).
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn propagate_reseller(
    store: &Store,
    tenant_id: &TenantId,
    old: Option<&str>,
    new: Option<&str>,
    force: bool,
) -> Result<u64> {
    let mut changed = 0;
    let mut from = None;
    // Every page (not a retry): each subtenant is one conditional write.
    loop {
        let (batch, next) = store
            .list_subtenants(tenant_id, SubtenantOrder::Created, false, 100, from.as_ref())
            .await?;
        for subtenant in batch {
            let current = subtenant.reseller_id.as_deref();
            if (force || current == old) && current != new && store.set_subtenant_reseller(&subtenant, new).await? {
                changed += 1;
            }
        }
        match next {
            Some(next) => from = Some(next),
            None => return Ok(changed),
        }
    }
}
