//! Which tenants a caller may see, and with which role.
//!
//! A platform admin sees every tenant with every role. Anyone else sees the
//! tenants they are a member of and their descendants (Traffic Control's
//! rule), with the best role of their memberships on the tenant's path. A
//! membership counts only on the incarnation of the tenant it was given on
//! (an id deleted and created again does not inherit the old members).
//!
//! An inactive or retired (or provisioning) ancestor cuts its subtree off
//! from the memberships below it, never from those who manage it:
//!
//! - a membership *above* it sees through it, whatever its role (the
//!   members above do not lose sight of a subtree an admin deactivated);
//! - a membership *on* it sees through it only with the admin role: its
//!   admins still manage its subtree, while its viewers and operators (whom
//!   deactivating a customer locks out) see the tenant itself but nothing
//!   below it;
//! - a membership *below* it sees nothing of it.
//!
//! Lists apply the same rule ([`TenantQuery::gatekeepers`](crate::domain::query::TenantQuery::gatekeepers)).
//!
//! What a caller cannot see answers 404, before any permission is looked at
//! ([`permit`]), and a purged tenant answers 410 only to those who could
//! have seen it (its tombstone keeps its path): to anyone else, 404.

use std::collections::HashMap;

use crate::auth::{Caller, TenantRole};
use crate::domain::{Tenant, TenantId, Timestamp, UserId};
use crate::error::{Code, Error, Result};
use crate::store::members::AccessView;
use crate::store::tenants::TenantEntry;
use crate::store::Store;

fn user(caller: &Caller) -> Result<UserId> {
    UserId::parse(&caller.subject).map_err(|_| {
        Error::Forbidden(
            Code::InvalidSubject,
            "the token's subject is not a valid user id".into(),
        )
    })
}

fn hidden(id: &TenantId) -> Error {
    Error::NotFound {
        kind: "tenant",
        id: id.to_string(),
    }
}

/// Whether a membership at `at` on a tenant's path (0 = root), with `role`,
/// sees through the proper ancestors at `blocked` (not active): it must be
/// above each, or on it as its admin.
fn sees_through(at: usize, role: TenantRole, blocked: &[usize]) -> bool {
    blocked
        .iter()
        .all(|&b| at < b || (at == b && role == TenantRole::Admin))
}

/// The memberships of `view` that count (see the module's rule).
fn counting(view: &AccessView) -> impl Iterator<Item = &(usize, TenantRole)> {
    view.memberships
        .iter()
        .filter(|(at, role)| sees_through(*at, *role, &view.blocked))
}

/// The role the memberships of `view` give (see the module's rule), `None`:
/// the tenant is not visible through them.
pub fn role_of(view: &AccessView) -> Option<TenantRole> {
    counting(view).map(|(_, role)| *role).max()
}

/// The caller's role on `tenant`, `None` if it may not see it.
pub async fn role_on(store: &Store, caller: &Caller, tenant: &Tenant) -> Result<Option<TenantRole>> {
    if caller.platform_admin {
        return Ok(Some(TenantRole::Admin));
    }
    let view = store.access_view(tenant, &user(caller)?).await?;
    Ok(role_of(&view))
}

/// Checks that the caller sees `tenant` (else 404) with at least `needs` (else 403).
pub async fn require(store: &Store, caller: &Caller, tenant: &Tenant, needs: TenantRole) -> Result<TenantRole> {
    let role = role_on(store, caller, tenant)
        .await?
        .ok_or_else(|| hidden(&tenant.id))?;
    if role < needs {
        return Err(Error::Forbidden(
            Code::RoleTooLow,
            format!(
                "your role on tenant '{}' is {}; this needs {}",
                tenant.id,
                role.as_str(),
                needs.as_str()
            ),
        ));
    }
    Ok(role)
}

/// Reads a tenant the caller may see with at least `needs`.
pub async fn tenant(store: &Store, caller: &Caller, id: &TenantId, needs: TenantRole) -> Result<Tenant> {
    Ok(tenant_with_role(store, caller, id, needs).await?.0)
}

/// [`tenant`], with the caller's role on it. A purged id answers 410 to
/// those who could have seen its tenant, 404 to anyone else.
pub async fn tenant_with_role(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    needs: TenantRole,
) -> Result<(Tenant, TenantRole)> {
    let tenant = match store.tenant_entry(id).await? {
        TenantEntry::Tenant(tenant) => *tenant,
        TenantEntry::Purged { purged_at, path } => {
            return Err(if could_have_seen(store, caller, &path, &purged_at).await? {
                Error::Gone {
                    kind: "tenant",
                    id: id.to_string(),
                }
            } else {
                hidden(id)
            })
        }
        TenantEntry::Missing => return Err(hidden(id)),
    };
    let role = require(store, caller, &tenant, needs).await?;
    Ok((tenant, role))
}

/// Whether the caller could have seen a tenant purged at `purged_at` on
/// `path`: a platform admin could; anyone else if it sees the deepest of its
/// ancestors that is still there (the same incarnation as at the purge: born
/// before it). The purged tenant's own memberships went with it; a tombstone
/// without a path (written before paths were kept) tells only platform admins.
pub(crate) async fn could_have_seen(
    store: &Store,
    caller: &Caller,
    path: &[TenantId],
    purged_at: &str,
) -> Result<bool> {
    if caller.platform_admin {
        return Ok(true);
    }
    let (Some(purged_at), Some((_, ancestors))) = (Timestamp::parse(purged_at), path.split_last()) else {
        return Ok(false);
    };
    let found = store.get_tenants(ancestors).await?;
    let deepest = ancestors
        .iter()
        .rev()
        .filter_map(|id| found.get(id))
        .find(|a| a.created_at <= purged_at);
    match deepest {
        Some(ancestor) => Ok(role_on(store, caller, ancestor).await?.is_some()),
        None => Ok(false),
    }
}

/// The permission check of a route about tenant `id`, made after the
/// visibility check: `granted` is the token's answer
/// ([`Caller::require`]). A caller without the permission learns nothing of a
/// tenant it cannot see (404, as for one that does not exist), and hears the
/// 403 naming the permission about one it sees. The visibility read is made
/// only when the permission is missing: a granted request costs nothing more.
pub async fn permit(store: &Store, caller: &Caller, id: &TenantId, granted: Result<()>) -> Result<()> {
    if granted.is_err() {
        tenant(store, caller, id, TenantRole::Viewer).await?;
    }
    granted
}

/// A topmost membership of a non-admin: a tenant it is a member of with no
/// membership of it above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub id: TenantId,
    /// The incarnation the membership is on.
    pub created_at: Timestamp,
    pub role: TenantRole,
}

/// The roots of what a non-admin may see (see [`Root`]), memberships of
/// earlier incarnations of their ids left out. `None` for a platform admin.
pub async fn roots(store: &Store, caller: &Caller) -> Result<Option<Vec<Root>>> {
    if caller.platform_admin {
        return Ok(None);
    }
    let memberships = store.all_memberships_with_incarnations_of(&user(caller)?).await?;
    let ids: Vec<TenantId> = memberships.iter().map(|(id, _, _)| id.clone()).collect();
    let tenants = store.get_tenants(&ids).await?;
    let current: HashMap<&TenantId, (&Tenant, TenantRole)> = memberships
        .iter()
        .filter_map(|(id, role, incarnation)| {
            let tenant = tenants.get(id)?;
            (*incarnation == Some(tenant.created_at)).then_some((id, (tenant, *role)))
        })
        .collect();
    // In the memberships' order (by tenant id): lists and their cursors
    // rely on a stable order of roots.
    let roots = memberships
        .iter()
        .filter_map(|(id, _, _)| current.get(id))
        .filter(|(t, _)| !t.path[..t.path.len() - 1].iter().any(|a| current.contains_key(a)))
        .map(|(t, role)| Root {
            id: t.id.clone(),
            created_at: t.created_at,
            role: *role,
        })
        .collect();
    Ok(Some(roots))
}

/// The ids of [`roots`].
pub async fn visible_roots(store: &Store, caller: &Caller) -> Result<Option<Vec<TenantId>>> {
    Ok(roots(store, caller)
        .await?
        .map(|roots| roots.into_iter().map(|r| r.id).collect()))
}

/// Of `ancestors` (root first) of a tenant the caller sees, those it may see
/// too: from its topmost membership that counts down (a platform admin sees
/// them all).
pub async fn visible_ancestors(
    store: &Store,
    caller: &Caller,
    tenant: &Tenant,
    ancestors: Vec<Tenant>,
) -> Result<Vec<Tenant>> {
    if caller.platform_admin {
        return Ok(ancestors);
    }
    let view = store.access_view(tenant, &user(caller)?).await?;
    let topmost = counting(&view).map(|(at, _)| *at).min().unwrap_or(usize::MAX);
    Ok(ancestors
        .into_iter()
        .filter(|a| {
            tenant
                .path
                .iter()
                .position(|id| *id == a.id)
                .is_some_and(|at| at >= topmost)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use TenantRole::{Admin, Operator, Viewer};

    #[test]
    fn an_inactive_ancestor_hides_its_subtree_from_below_and_from_its_non_admins_only() {
        // The tenant at 3; the ancestor at 1 is inactive.
        let blocked = [1];
        for role in [Viewer, Operator, Admin] {
            assert!(sees_through(0, role, &blocked), "above it: {role:?}");
            assert!(!sees_through(2, role, &blocked), "below it: {role:?}");
        }
        assert!(sees_through(1, Admin, &blocked), "its admin");
        assert!(!sees_through(1, Operator, &blocked) && !sees_through(1, Viewer, &blocked));
        assert!(sees_through(3, Viewer, &[]), "no inactive ancestor");
        assert!(sees_through(0, Admin, &[0, 2]), "an admin on one, above the other");
        assert!(!sees_through(2, Admin, &[0, 2]), "an admin on one, below the other");
    }

    #[test]
    fn the_best_counting_membership_is_the_role() {
        let view = AccessView {
            memberships: vec![(0, Viewer), (2, Admin)],
            blocked: vec![1],
        };
        assert_eq!(counting(&view).map(|(_, r)| *r).max(), Some(Viewer));
        let view = AccessView {
            memberships: vec![(1, Viewer), (2, Admin)],
            blocked: vec![1],
        };
        assert_eq!(counting(&view).next(), None);
    }
}
