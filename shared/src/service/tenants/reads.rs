//! Reads: a tenant by id or name, lists, ancestors, history.

use crate::auth::{Caller, TenantRole};
use crate::domain::audit::AuditEvent;
use crate::domain::query::TenantQuery;
use crate::domain::{Tenant, TenantId, TenantName};
use crate::error::{Error, Result};
use crate::service::access;
use crate::store::tenants::{NameHolder, TenantEntry};
use crate::store::{ListPosition, Page, Store};

/// A tenant the caller may see.
#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn get(store: &Store, caller: &Caller, id: &TenantId) -> Result<Tenant> {
    access::tenant(store, caller, id, TenantRole::Viewer).await
}

/// Lookup by name, case-insensitively: the name's guard, then the tenant.
/// A name whose last holder was purged answers 410, as that tenant's id
/// does, and only to those who could have seen it (404 to anyone else).
#[tracing::instrument(skip_all)]
pub async fn get_by_name(store: &Store, caller: &Caller, name: &str) -> Result<Tenant> {
    let name = TenantName::parse(name).map_err(|m| Error::invalid("name", m))?;
    let missing = || Error::NotFound {
        kind: "tenant named",
        id: name.to_string(),
    };
    let hidden = |e: Error| match e {
        Error::NotFound { .. } => missing(),
        other => other,
    };
    match store.name_holder(&name.key()).await? {
        NameHolder::Tenant(id) => {
            let tenant = store.get_tenant(&id).await?.ok_or_else(missing)?;
            access::require(store, caller, &tenant, TenantRole::Viewer)
                .await
                .map_err(hidden)?;
            Ok(tenant)
        }
        NameHolder::Purged { id, purged_at } => match store.tenant_entry(&id).await? {
            // The tombstone of that purge (not a later tenant of the id).
            TenantEntry::Purged { purged_at: at, path }
                if at == purged_at && access::could_have_seen(store, caller, &path, &at).await? =>
            {
                Err(Error::Gone {
                    kind: "tenant named",
                    id: name.to_string(),
                })
            }
            _ => Err(missing()),
        },
        NameHolder::Nobody => Err(missing()),
    }
}

/// The query narrowed to what the caller may see: a platform admin sees
/// everything; anyone else the subtrees of its memberships, minus what an
/// inactive or retired tenant hides from it (see `access`).
#[tracing::instrument(skip_all)]
pub async fn visible(store: &Store, caller: &Caller, query: TenantQuery) -> Result<TenantQuery> {
    match access::roots(store, caller).await? {
        None => Ok(query),
        Some(roots) => Ok(TenantQuery {
            see_through: roots
                .iter()
                .filter(|r| r.role == TenantRole::Admin)
                .map(|r| r.id.clone())
                .collect(),
            within: Some(roots.into_iter().map(|r| r.id).collect()),
            active_ancestors: true,
            ..query
        }),
    }
}

/// A page of a (visible) query.
#[tracing::instrument(skip_all)]
pub async fn list(store: &Store, query: &TenantQuery, from: Option<&ListPosition>) -> Result<Page<Tenant>> {
    store.list_tenants(query, from).await
}

/// The page that starts `offset` matches in (`page`/`offset` paging, kept
/// for compatibility): the pages before it are read and dropped.
#[tracing::instrument(skip_all)]
pub async fn list_from_offset(store: &Store, query: &TenantQuery, offset: usize) -> Result<Page<Tenant>> {
    let mut skipped = 0;
    let mut from: Option<ListPosition> = None;
    while skipped < offset {
        let step = TenantQuery {
            limit: (offset - skipped).min(100),
            ..query.clone()
        };
        let page = store.list_tenants(&step, from.as_ref()).await?;
        skipped += page.items.len();
        match page.next {
            Some(next) => from = Some(next),
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                })
            }
        }
    }
    store.list_tenants(query, from.as_ref()).await
}

#[tracing::instrument(skip_all)]
pub async fn count(store: &Store, query: &TenantQuery) -> Result<u64> {
    store.count_tenants(query).await
}

/// The ancestors of a tenant the caller may see, root first, as far up as
/// the caller may see (one `GetItem`, one `BatchGetItem`, and for a
/// non-admin the membership reads).
#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn ancestors(store: &Store, caller: &Caller, id: &TenantId) -> Result<Vec<Tenant>> {
    let tenant = get(store, caller, id).await?;
    let ids = &tenant.path[..tenant.path.len().saturating_sub(1)];
    let mut found = store.get_tenants(ids).await?;
    let ancestors = ids.iter().filter_map(|id| found.remove(id)).collect();
    access::visible_ancestors(store, caller, &tenant, ancestors).await
}

/// A page of a tenant's audit history, newest first.
#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn history(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    limit: usize,
    before: Option<u64>,
) -> Result<(Vec<AuditEvent>, Option<u64>)> {
    let tenant = get(store, caller, id).await?;
    store.list_events(&tenant, limit, before).await
}
