//! Where a tenant may go: a parent that can take it, the top for those who
//! may put it there, never under itself.

use super::contended;
use crate::auth::{Caller, TenantRole};
use crate::domain::tenant::Placement;
use crate::domain::{Status, Tenant, TenantId};
use crate::error::{Code, Error, Result};
use crate::service::access;
use crate::store::Store;

/// A parent that can take a child: it exists, the caller sees it with at
/// least `needs` (one it cannot see is, to it, no tenant), and it is not retired.
pub(super) async fn receiving_parent(
    store: &Store,
    caller: &Caller,
    parent_id: &TenantId,
    needs: TenantRole,
) -> Result<Tenant> {
    let no_tenant = || Error::invalid("parentId", format!("refers to no tenant: '{parent_id}'"));
    let parent = store.get_tenant(parent_id).await?.ok_or_else(no_tenant)?;
    match access::require(store, caller, &parent, needs).await {
        Err(Error::NotFound { .. }) => return Err(no_tenant()),
        other => other?,
    };
    match parent.status {
        Status::Retired => {
            return Err(Error::Conflict(
                Code::ParentRetired,
                format!("parent '{parent_id}' is retired; restore it first"),
            ))
        }
        // A clone being provisioned takes no children until its job succeeds.
        Status::Provisioning => parent.ensure_changeable()?,
        Status::Active | Status::Inactive => {}
    }
    Ok(parent)
}

/// Top-level tenants are for platform admins (and the creator role).
pub(super) fn top_level_allowed(caller: &Caller) -> Result<()> {
    if caller.may_create_top_level {
        Ok(())
    } else {
        Err(Error::Forbidden(
            Code::PlatformAdminRequired,
            "a top-level tenant can only be created (or moved to the top) by a platform admin".into(),
        ))
    }
}

/// The ancestors of a (new) parent, whose paths the write checks unchanged.
pub(super) async fn ancestors_of(store: &Store, parent: Option<&Tenant>) -> Result<Vec<Tenant>> {
    let Some(parent) = parent else { return Ok(Vec::new()) };
    let ids = &parent.path[..parent.path.len().saturating_sub(1)];
    let mut found = store.get_tenants_consistent(ids).await?;
    ids.iter()
        .map(|id| found.remove(id).ok_or_else(|| contended(&parent.id)))
        .collect()
}

/// Where an update puts the tenant, its new parent read: [`Placement::Keep`]
/// when it stays where it is (whatever the input said).
pub(super) type Destination = Placement<Box<Tenant>>;

/// Judges a change of parent. A move takes the tenant (and its subtree) out
/// of one subtree and into another, so it is administered on both sides:
///
/// - out: the admin role on the old parent (which the admins above it have
///   too): the subtree's admin decides what leaves it, not an admin of the
///   moved tenant alone, who may be an operator elsewhere. A top-level
///   tenant leaves no subtree (only platform admins see it from above, and
///   they see everything): the admin role on the tenant itself is enough.
/// - in: the admin role on the new parent, as a create there needs (one the
///   caller cannot see is no tenant: 400); the top is for platform admins.
///
/// Never under itself or a descendant (409).
pub(super) async fn resolve_move(
    store: &Store,
    caller: &Caller,
    role: TenantRole,
    current: &Tenant,
    placement: &Placement,
) -> Result<Destination> {
    let destination = match placement {
        Placement::Keep => return Ok(Placement::Keep),
        Placement::TopLevel if current.parent_id.is_none() => return Ok(Placement::Keep),
        Placement::Under(parent_id) if current.parent_id.as_ref() == Some(parent_id) => return Ok(Placement::Keep),
        Placement::TopLevel => None,
        Placement::Under(parent_id) => Some(parent_id),
    };
    if role < TenantRole::Admin {
        return Err(Error::Forbidden(
            Code::RoleTooLow,
            format!("moving tenant '{}' needs the admin role on it", current.id),
        ));
    }
    if let Some(old_parent) = &current.parent_id {
        let administered = match store.get_tenant(old_parent).await? {
            Some(parent) => access::role_on(store, caller, &parent).await? == Some(TenantRole::Admin),
            None => false,
        };
        if !administered {
            return Err(Error::Forbidden(
                Code::RoleTooLow,
                format!(
                    "moving tenant '{}' out of '{old_parent}' needs the admin role on '{old_parent}'",
                    current.id
                ),
            ));
        }
    }
    let Some(parent_id) = destination else {
        top_level_allowed(caller)?;
        return Ok(Placement::TopLevel);
    };
    if parent_id == &current.id
        || store
            .get_tenant(parent_id)
            .await?
            .is_some_and(|p| p.path.contains(&current.id))
    {
        return Err(Error::Conflict(
            Code::WouldCycle,
            format!(
                "cannot move tenant '{}' under itself or one of its descendants ('{parent_id}')",
                current.id
            ),
        ));
    }
    let parent = receiving_parent(store, caller, parent_id, TenantRole::Admin).await?;
    Ok(Placement::Under(Box::new(parent)))
}

/// How many levels hang below the tenant (0 for a leaf).
pub(super) async fn subtree_height(store: &Store, tenant: &Tenant) -> Result<u32> {
    if tenant.child_count == 0 {
        return Ok(0);
    }
    let deepest = store
        .descendants(tenant)
        .await?
        .iter()
        .map(|d| d.depth)
        .max()
        .unwrap_or(tenant.depth);
    Ok(deepest.saturating_sub(tenant.depth))
}
