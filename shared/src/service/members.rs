//! Memberships of a tenant (`/v1/tenants/{id}/members`) and the caller's
//! own tenants (`/v1/tenants/mine`).

use std::collections::HashMap;

use super::access;
use super::contention::{self, Retry};
use crate::auth::{Caller, TenantRole};
use crate::domain::member::Member;
use crate::domain::tenant::Stamp;
use crate::domain::{Status, Tenant, TenantId, UserId};
use crate::error::{Code, Error, Result};
use crate::store::Store;

fn no_member(tenant: &TenantId, user: &UserId) -> Error {
    Error::NotFound {
        kind: "member",
        id: format!("{user}' of tenant '{tenant}"),
    }
}

/// Adds or changes a membership (tenant admins only); `true` if it is new.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn put(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    user_id: &UserId,
    role: TenantRole,
    change: &Stamp,
) -> Result<(Member, bool)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Admin).await?;
    let mut retry = Retry::new();
    while retry.next().await {
        let existing = store.get_member(&tenant, user_id).await?;
        let member = Member {
            tenant_id: tenant.id.clone(),
            user_id: user_id.clone(),
            role,
            added_at: existing.as_ref().map_or(change.at, |m| m.added_at),
            added_by: existing
                .as_ref()
                .map_or_else(|| change.actor.clone(), |m| m.added_by.clone()),
        };
        if existing.as_ref() == Some(&member) {
            return Ok((member, false));
        }
        let written = match existing {
            Some(_) => store.replace_member(&tenant, &member).await?,
            None => store.create_member(&tenant, &member).await?,
        };
        if written {
            return Ok((member, existing.is_none()));
        }
    }
    Err(contention::exhausted(
        format_args!("the membership of '{user_id}' in '{tenant_id}'"),
        &retry,
    ))
}

#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn get(store: &Store, caller: &Caller, tenant_id: &TenantId, user_id: &UserId) -> Result<Member> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    store
        .get_member(&tenant, user_id)
        .await?
        .ok_or_else(|| no_member(tenant_id, user_id))
}

/// Removes a membership (tenant admins only).
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn delete(store: &Store, caller: &Caller, tenant_id: &TenantId, user_id: &UserId) -> Result<()> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Admin).await?;
    if store.delete_member(&tenant, user_id).await? {
        Ok(())
    } else {
        Err(no_member(tenant_id, user_id))
    }
}

/// The direct members of a tenant, a page at a time.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn list(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    limit: usize,
    after: Option<&UserId>,
) -> Result<(Vec<Member>, Option<UserId>)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    store.list_members(&tenant, limit, after).await
}

/// The caller's tenants (those it is a member of), by id, each with the
/// caller's role on it (what `access` gives: its best membership on the
/// tenant's path that an inactive or retired ancestor does not cut off);
/// tenants it cannot see that way, and memberships of an earlier tenant of
/// an id, are left out. One `Query` of the caller's memberships, one
/// `BatchGetItem` of the tenants, one of their ancestors.
pub async fn mine(
    store: &Store,
    caller: &Caller,
    limit: usize,
    after: Option<&TenantId>,
) -> Result<(Vec<(Tenant, TenantRole)>, Option<TenantId>)> {
    let user = UserId::parse(&caller.subject).map_err(|_| {
        Error::Forbidden(
            Code::InvalidSubject,
            "the token's subject is not a valid user id".into(),
        )
    })?;
    let memberships: HashMap<TenantId, (TenantRole, Option<crate::domain::Timestamp>)> = store
        .all_memberships_with_incarnations_of(&user)
        .await?
        .into_iter()
        .map(|(id, role, incarnation)| (id, (role, incarnation)))
        .collect();
    let mut ids: Vec<TenantId> = memberships
        .keys()
        .filter(|id| after.is_none_or(|a| *id > a))
        .cloned()
        .collect();
    ids.sort();
    let more = ids.len() > limit;
    ids.truncate(limit);
    let tenants = store.get_tenants(&ids).await?;
    let ancestor_ids: Vec<TenantId> = tenants
        .values()
        .flat_map(|t| t.path[..t.path.len() - 1].iter().cloned())
        .collect();
    let ancestors = store.get_tenants(&ancestor_ids).await?;
    let mut items = Vec::new();
    for id in &ids {
        let Some(tenant) = tenants.get(id) else { continue };
        let on_path = |at: usize| -> Option<&Tenant> {
            match at + 1 == tenant.path.len() {
                true => Some(tenant),
                false => ancestors.get(&tenant.path[at]),
            }
        };
        let view = crate::store::members::AccessView {
            memberships: (0..tenant.path.len())
                .filter_map(|at| {
                    let (role, incarnation) = memberships.get(&tenant.path[at])?;
                    (*incarnation == Some(on_path(at)?.created_at)).then_some((at, *role))
                })
                .collect(),
            blocked: (0..tenant.path.len() - 1)
                .filter(|at| on_path(*at).is_none_or(|a| a.status != Status::Active))
                .collect(),
        };
        if let Some(role) = access::role_of(&view) {
            items.push((tenant.clone(), role));
        }
    }
    let next = if more { ids.last().cloned() } else { None };
    Ok((items, next))
}
