//! Which tenants a caller may see, and with which role.
//!
//! A platform admin sees every tenant with every role. Anyone else sees the
//! tenants they are a member of and their descendants (Traffic Control's
//! rule), with the best role of their memberships on the tenant's path, as
//! long as every ancestor of the tenant is active: an inactive or retired
//! ancestor hides its subtree. What a caller cannot see answers 404.

use crate::auth::{Caller, TenantRole};
use crate::domain::{Tenant, TenantId, UserId};
use crate::error::{Error, Result};
use crate::store::tenants::TenantEntry;
use crate::store::Store;

fn user(caller: &Caller) -> Result<UserId> {
    UserId::parse(&caller.subject).map_err(|_| Error::Forbidden("the token's subject is not a valid user id".into()))
}

fn hidden(id: &TenantId) -> Error {
    Error::NotFound {
        kind: "tenant",
        id: id.to_string(),
    }
}

/// The caller's role on `tenant`, `None` if it may not see it.
pub async fn role_on(store: &Store, caller: &Caller, tenant: &Tenant) -> Result<Option<TenantRole>> {
    if caller.platform_admin {
        return Ok(Some(TenantRole::Admin));
    }
    let view = store.access_view(tenant, &user(caller)?).await?;
    Ok(view.role.filter(|_| view.ancestors_active))
}

/// Checks that the caller sees `tenant` (else 404) with at least `needs` (else 403).
pub async fn require(store: &Store, caller: &Caller, tenant: &Tenant, needs: TenantRole) -> Result<TenantRole> {
    let role = role_on(store, caller, tenant)
        .await?
        .ok_or_else(|| hidden(&tenant.id))?;
    if role < needs {
        return Err(Error::Forbidden(format!(
            "your role on tenant '{}' is {}; this needs {}",
            tenant.id,
            role.as_str(),
            needs.as_str()
        )));
    }
    Ok(role)
}

/// Reads a tenant the caller may see with at least `needs`.
pub async fn tenant(store: &Store, caller: &Caller, id: &TenantId, needs: TenantRole) -> Result<Tenant> {
    let tenant = match store.tenant_entry(id).await? {
        TenantEntry::Tenant(tenant) => *tenant,
        TenantEntry::Purged { .. } => {
            return Err(Error::Gone {
                kind: "tenant",
                id: id.to_string(),
            })
        }
        TenantEntry::Missing => return Err(hidden(id)),
    };
    require(store, caller, &tenant, needs).await?;
    Ok(tenant)
}

/// The roots of what a non-admin may list: the tenants it is a member of,
/// leaving out those inside another one's subtree. `None` for a platform admin.
pub async fn visible_roots(store: &Store, caller: &Caller) -> Result<Option<Vec<TenantId>>> {
    if caller.platform_admin {
        return Ok(None);
    }
    let ids: Vec<TenantId> = store
        .all_memberships_of(&user(caller)?)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let tenants = store.get_tenants(&ids).await?;
    let roots = ids
        .iter()
        .filter(|id| {
            tenants
                .get(*id)
                .is_some_and(|t| !t.path[..t.path.len() - 1].iter().any(|a| ids.contains(a)))
        })
        .cloned()
        .collect();
    Ok(Some(roots))
}

/// Of `ancestors` (root first) of a tenant the caller sees, those it may see
/// too: from its topmost membership down (a platform admin sees them all).
pub async fn visible_ancestors(
    store: &Store,
    caller: &Caller,
    tenant: &Tenant,
    ancestors: Vec<Tenant>,
) -> Result<Vec<Tenant>> {
    if caller.platform_admin {
        return Ok(ancestors);
    }
    let topmost = store
        .access_view(tenant, &user(caller)?)
        .await?
        .topmost
        .unwrap_or(usize::MAX);
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
