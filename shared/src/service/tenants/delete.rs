//! Delete: one tenant, or (forced) its whole subtree, deepest first; and the
//! removal of a failed clone's tenant.

use super::read;
use crate::auth::{Caller, TenantRole};
use crate::domain::{Tenant, TenantId};
use crate::error::{Code, Error, Result};
use crate::service::contention::{self, Retry};
use crate::service::{access, pending, require_expected_version, Expected};
use crate::store::subtenants::SubtenantOrder;
use crate::store::tenants::{ParentDelta, WriteFailure, WrittenWith};
use crate::store::work::{Pending, Work};
use crate::store::Store;

/// What a delete removed, or (dry run) would remove.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReport {
    /// The tenant first, then its descendants in path order.
    pub deleted_tenant_ids: Vec<TenantId>,
    /// Their subtenants (Netaxis' `deletedGroupIds`).
    pub deleted_subtenant_ids: Vec<String>,
    pub dry_run: bool,
}

/// How far a delete may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteMode {
    /// Delete the whole subtree.
    pub force: bool,
    /// Report, delete nothing.
    pub dry_run: bool,
}

/// Deletes a tenant (with `force`, its whole subtree, deepest first so no
/// tenant is ever left without its parent).
#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn delete(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    expected: Option<&Expected>,
    mode: DeleteMode,
) -> Result<DeleteReport> {
    let mut current = access::tenant(store, caller, id, TenantRole::Admin).await?;
    require_expected_version(expected, current.version)?;
    if current.child_count > 0 && pending::complete_all(store).await? > 0 {
        current = read(store, id).await?;
        require_expected_version(expected, current.version)?;
    }
    let mut descendants = if current.child_count > 0 {
        store.descendants(&current).await?
    } else {
        Vec::new()
    };
    descendants.sort_by_key(Tenant::path_string);
    let owns = |t: &Tenant| t.child_count > 0 || t.subtenant_count > 0;
    if owns(&current) && !mode.force && !mode.dry_run {
        return Err(Error::Conflict(Code::HasChildren, format!(
            "tenant '{id}' has {} child tenant(s) ({} descendant(s) in all) and {} subtenant(s); delete them first, or use force=true (dryRun=true shows what would go)",
            current.child_count,
            descendants.len(),
            current.subtenant_count
        )));
    }
    let mut report = DeleteReport {
        deleted_tenant_ids: Vec::new(),
        deleted_subtenant_ids: Vec::new(),
        dry_run: mode.dry_run,
    };
    // Descendants by path, so the report reads top-down.
    let mut deleted: std::collections::BTreeMap<String, TenantId> = Default::default();
    let finish = |mut report: DeleteReport, deleted: std::collections::BTreeMap<String, TenantId>| {
        report.deleted_tenant_ids = std::iter::once(id.clone()).chain(deleted.into_values()).collect();
        report
    };
    if mode.dry_run {
        for tenant in std::iter::once(&current).chain(&descendants) {
            report.deleted_subtenant_ids.extend(subtenant_ids(store, tenant).await?);
        }
        deleted.extend(descendants.iter().map(|d| (d.path_string(), d.id.clone())));
        return Ok(finish(report, deleted));
    }
    // The retries nest, each for its own race: this loop's attempts are
    // rounds over the subtree, redone when a child appeared under it
    // meanwhile (`HasChildren`) or the tenant's own delete outlasted its
    // budget; `delete_one` retries each tenant's delete on a lost race. A
    // round ends within its budget or answers 503, so a forced delete of a
    // contended subtree may take several budgets before it does.
    let mut retry = Retry::new();
    while retry.next().await {
        descendants.sort_by_key(|d| std::cmp::Reverse(d.depth));
        for descendant in &descendants {
            report
                .deleted_subtenant_ids
                .extend(delete_one(store, descendant, None).await?);
            deleted.insert(descendant.path_string(), descendant.id.clone());
        }
        match delete_one(store, &current, expected).await {
            Ok(subtenants) => {
                report.deleted_subtenant_ids.extend(subtenants);
                return Ok(finish(report, deleted));
            }
            Err(Error::Conflict(Code::HasChildren, _) | Error::Contended(_)) if mode.force => {
                current = read(store, id).await?;
                require_expected_version(expected, current.version)?;
                descendants = store.descendants(&current).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Err(contention::exhausted(format_args!("tenant '{id}'"), &retry))
}

/// The ids of every subtenant of a tenant.
async fn subtenant_ids(store: &Store, tenant: &Tenant) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    if tenant.subtenant_count == 0 {
        return Ok(ids);
    }
    let mut from = None;
    // Every page (not a retry).
    loop {
        let (page, next) = store
            .list_subtenants(&tenant.id, SubtenantOrder::Created, false, 100, from.as_ref())
            .await?;
        ids.extend(page.into_iter().map(|s| s.id));
        match next {
            Some(next) => from = Some(next),
            None => break,
        }
    }
    Ok(ids)
}

/// Removes the new tenant of a clone that failed (it has no children and no
/// subtenants: a provisioning tenant cannot get any).
pub(crate) async fn remove_unfinished_clone(store: &Store, tenant: &Tenant) -> Result<()> {
    // Only the tenant as read (still provisioning): if its job succeeded
    // meanwhile, it is not this job's to remove.
    let as_read = Expected::OneOf(vec![tenant.version]);
    match delete_one(store, tenant, Some(&as_read)).await {
        Err(Error::PreconditionFailed { .. }) => Err(Error::Contended(format!(
            "tenant '{}' changed while its clone job was failing",
            tenant.id
        ))),
        other => other.map(drop),
    }
}

/// Deletes one tenant that has no children, with its subtenants, name,
/// facets, members, history and deployments; returns the ids of the
/// subtenants it deleted. Its attempts are redone on a lost race (a
/// subtenant or a change that came in between), on the tenant read again.
async fn delete_one(store: &Store, tenant: &Tenant, expected: Option<&Expected>) -> Result<Vec<String>> {
    let mut current = tenant.clone();
    let mut subtenants = Vec::new();
    let mut retry = Retry::new();
    while retry.next().await {
        if current.subtenant_count > 0 {
            subtenants.extend(store.delete_all_subtenants(&current).await?);
            current = match store.get_tenant(&current.id).await? {
                Some(fresh) => fresh,
                None => return Ok(subtenants),
            };
        }
        let history = Pending::new(Work::DeleteOwned {
            tenant_id: current.id.clone(),
            incarnation: current.created_at,
            identity_providers: !current.identity_provider_ids.is_empty(),
            deployments: current.configuration_version > 0,
        });
        let with = WrittenWith {
            parents: current.parent_id.iter().map(ParentDelta::Loses).collect(),
            pending: vec![history.item()?],
            ..Default::default()
        };
        match store.delete_tenant_if_childless(&current, with).await {
            Ok(()) => {
                pending::run_after_commit(store, &history).await;
                return Ok(subtenants);
            }
            Err(WriteFailure::Other(e)) => return Err(e),
            Err(_) => match store.get_tenant(&current.id).await? {
                None => return Ok(subtenants),
                Some(fresh) => {
                    require_expected_version(expected, fresh.version)?;
                    if fresh.child_count > 0 {
                        let id = &fresh.id;
                        return Err(Error::Conflict(
                            Code::HasChildren,
                            format!("tenant '{id}' has children; delete them first"),
                        ));
                    }
                    current = fresh;
                }
            },
        }
    }
    Err(contention::exhausted(format_args!("tenant '{}'", tenant.id), &retry))
}
