//! Retire and restore: status moves with their own routes (and the admin role).

use super::update::{update, UpdateTerms};
use crate::auth::Caller;
use crate::domain::tenant::{Placement, Stamp};
use crate::domain::{Tenant, TenantId};
use crate::error::Result;
use crate::service::Expected;
use crate::store::Store;

/// Retires the tenant (admin): it leaves the lists until restored, and is
/// purged after the retention; `reason` is kept on the tenant.
#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn retire(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    reason: Option<String>,
    expected: Option<&Expected>,
    change: &Stamp,
) -> Result<Tenant> {
    let edit = |current: &Tenant| Ok((current.retired(reason.clone(), change)?, Placement::Keep));
    Ok(update(store, caller, id, UpdateTerms::admin(expected, None), edit)
        .await?
        .tenant)
}

/// Brings a retired tenant back; `reason`, if given, is kept in the
/// change's audit event.
#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn restore(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    reason: Option<String>,
    expected: Option<&Expected>,
    change: &Stamp,
) -> Result<Tenant> {
    let edit = |current: &Tenant| Ok((current.restored(change)?, Placement::Keep));
    Ok(
        update(store, caller, id, UpdateTerms::admin(expected, reason.as_deref()), edit)
            .await?
            .tenant,
    )
}
