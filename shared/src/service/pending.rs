//! Finishing background work (see [`crate::store::work`]).

use std::time::Duration;

use crate::domain::Tenant;
use crate::error::Result;
use crate::store::keys::{self, ListBucket};
use crate::store::tenants::{WriteFailure, WrittenWith};
use crate::store::work::{Pending, Work};
use crate::store::Store;

/// Passes over a subtree before giving up on an index that lags behind.
const PASSES: usize = 5;

/// Does `pending` and marks it done. If the indexes have not caught up with
/// the table yet (counts disagree), the work stays pending for a later run.
///
/// The passes are a retry of their own, not [`Retry`](super::contention::Retry):
/// they wait for eventually consistent indexes, not for a competing writer,
/// so they pause a fixed, growing time (200, 400, 800, 1600 ms: about 3 s
/// in all) and end without an error, the work left for the next run.
pub async fn run(store: &Store, pending: &Pending) -> Result<()> {
    for pass in 0..PASSES {
        if pass > 0 {
            tokio::time::sleep(Duration::from_millis(100 << pass)).await;
        }
        if run_once(store, &pending.work).await? {
            return store.finish(pending).await;
        }
    }
    tracing::warn!(work = ?pending.work, "pending work left for a later run: the indexes lag behind the table");
    Ok(())
}

/// Does `pending` right after the change that wrote it committed. If
/// DynamoDB fails meanwhile the work stays pending for the next move or the
/// scheduled clean-up, and the request still answers with the change it
/// made: a 503 would invite a retry of a change already made (which, with
/// `If-Match`, would then fail 412).
pub async fn run_after_commit(store: &Store, pending: &Pending) {
    if let Err(e) = run(store, pending).await {
        tracing::warn!(error = %e, work = ?pending.work, "work left for the clean-up");
    }
}

/// Runs up to 100 units of unfinished work, oldest first; how many it ran.
pub async fn complete_all(store: &Store) -> Result<usize> {
    let pending = store.pending(100).await?;
    for work in &pending {
        run(store, work).await?;
    }
    Ok(pending.len())
}

/// Gives a descendant its new path (and so its new subtree facets) in one
/// transaction conditional on the version read; a descendant changed
/// meanwhile is left for the next pass, which the check below asks for.
async fn repath(store: &Store, descendant: &Tenant, path: Vec<crate::domain::TenantId>) -> Result<()> {
    let moved = Tenant {
        depth: path.len().saturating_sub(1) as u32,
        path,
        version: descendant.version + 1,
        ..descendant.clone()
    };
    match store
        .update_tenant_if_version(descendant, &moved, WrittenWith::default())
        .await
    {
        Ok(()) => Ok(()),
        Err(WriteFailure::Other(e)) => Err(e),
        Err(_) => Ok(()),
    }
}

/// One pass; `true` when the result is verified complete.
async fn run_once(store: &Store, work: &Work) -> Result<bool> {
    match work {
        Work::MoveSubtree {
            tenant_id,
            old_root,
            old_path,
        } => {
            let Some(tenant) = store.get_tenant(tenant_id).await? else {
                return Ok(true);
            };
            let old_len = old_path.split('/').count();
            let mut start = None;
            loop {
                let (page, next) = store.descendants_page(old_root, old_path, start).await?;
                for descendant in page {
                    let mut path = tenant.path.clone();
                    path.extend(descendant.path.iter().skip(old_len).cloned());
                    repath(store, &descendant, path).await?;
                }
                match next {
                    Some(key) => start = Some(key),
                    None => break,
                }
            }
            subtree_is_whole(store, &tenant).await
        }
        Work::RenameChildren { tenant_id } => {
            let Some(tenant) = store.get_tenant(tenant_id).await? else {
                return Ok(true);
            };
            let mut seen = 0u32;
            for bucket in [ListBucket::Live, ListBucket::Retired, ListBucket::Provisioning] {
                let mut start = None;
                loop {
                    let (page, next) = store.children_page(&tenant.id, bucket, start).await?;
                    for child in page {
                        seen += 1;
                        if child.parent_name.as_deref() != Some(tenant.name.as_str()) {
                            store.rename_parent_of(&child, &tenant).await?;
                        }
                    }
                    match next {
                        Some(key) => start = Some(key),
                        None => break,
                    }
                }
            }
            Ok(seen == tenant.child_count)
        }
        Work::PropagateReseller {
            tenant_id,
            old,
            new,
            force,
        } => {
            super::subtenants::propagate_reseller(store, tenant_id, old.as_deref(), new.as_deref(), *force).await?;
            Ok(true)
        }
        Work::DeleteOwned {
            tenant_id,
            incarnation,
            identity_providers,
            deployments,
        } => {
            let pk = keys::tenant(tenant_id).pk;
            store.delete_prefix(&pk, &keys::events_of(*incarnation), None).await?;
            store
                .delete_prefix(&pk, keys::MEMBER_SK_PREFIX, Some(*incarnation))
                .await?;
            if *identity_providers {
                store.delete_identity_providers_of(tenant_id, *incarnation).await?;
            }
            if *deployments {
                store
                    .delete_prefix(&pk, keys::DEPLOYMENT_ITEMS_PREFIX, Some(*incarnation))
                    .await?;
            }
            Ok(true)
        }
        Work::DeleteGroupMappings {
            tenant_id,
            identity_provider_id,
            provider_created_at,
        } => {
            store
                .delete_group_mappings(tenant_id, identity_provider_id, *provider_created_at)
                .await?;
            Ok(true)
        }
    }
}

/// Whether the subtree index shows every descendant under `tenant`'s path:
/// the child counts (read consistently) add up to what the index returned.
async fn subtree_is_whole(store: &Store, tenant: &Tenant) -> Result<bool> {
    let descendants = store.descendants(tenant).await?;
    let mut ids: Vec<_> = descendants.iter().map(|d| d.id.clone()).collect();
    ids.push(tenant.id.clone());
    let fresh = store.get_tenants_consistent(&ids).await?;
    let expected: u64 = fresh.values().map(|t| u64::from(t.child_count)).sum();
    let placed = descendants
        .iter()
        .all(|d| fresh.get(&d.id).is_some_and(|f| f.path.starts_with(&tenant.path)));
    Ok(expected == descendants.len() as u64 && placed)
}
