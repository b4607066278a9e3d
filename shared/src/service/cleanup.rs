//! The clean-up: purges tenants retired longer than the retention period,
//! with everything they own, and leaves a tombstone.
//!
//! Each purge is three steps, each safe to repeat: mark the tenant as being
//! purged (only if it is still retired and unchanged, so a restore in
//! between wins; a marked tenant can no longer be restored), delete the items
//! it owns in batches, then one transaction puts the tombstone in its place
//! (only if it is still the marked tenant), removes its name and updates its
//! parent. A run stops before its deadline; a tenant left half-purged is
//! still retired and marked, so the next run finds it again and finishes it.

use std::time::Instant;

use futures_util::StreamExt;
use serde::Serialize;

use super::pending;
use crate::domain::{Status, Tenant, TenantId, Timestamp};
use crate::error::Result;
use crate::store::tenants::TenantEntry;
use crate::store::Store;

/// How long a tombstone answers 410 Gone (and holds the id).
pub const TOMBSTONE_DAYS: i64 = 30;
/// Owned items deleted between two looks at the clock.
const BATCH: usize = 100;
/// Tenants purged at the same time.
const PARALLEL_PURGES: usize = 4;

/// One run's orders.
#[derive(Debug, Clone)]
pub struct Run {
    /// Report what would be purged; change nothing.
    pub dry_run: bool,
    /// Only these tenants (still only if retired long enough).
    pub tenant_ids: Option<Vec<TenantId>>,
    pub now: Timestamp,
    pub retention_days: u32,
    /// When to stop starting work (the deadline less a margin).
    pub stop_at: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub tenant_id: TenantId,
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub dry_run: bool,
    /// Retired tenants past retention that the run looked at.
    pub candidates: usize,
    /// Purged (dry run: would be purged).
    pub purged: Vec<TenantId>,
    pub skipped: Vec<Skipped>,
    /// Items deleted, tenants and their owned items (tombstones not counted).
    pub items_deleted: u64,
    /// Units of interrupted work (moves, renames…) the run finished first.
    pub pending_finished: usize,
    /// Clone jobs left unfinished (their stream records given up) that the
    /// run finished, succeeded or failed.
    pub jobs_finished: usize,
    /// Stopped before the deadline with work left for the next run.
    pub stopped_early: bool,
    pub took_ms: u64,
}

enum Outcome {
    Purged(u64),
    Skipped(String),
    Interrupted(u64),
}

/// How long a job may stay unfinished before the clean-up finishes it: well
/// past the stream trigger's retries (its records expire after an hour).
pub const STALE_JOB_MINUTES: i64 = 90;

/// Finishes clone jobs that nothing runs any more (their stream records went
/// to the dead-letter queue), so no new tenant stays `provisioning` for ever.
async fn finish_stale_jobs(store: &Store, run: &Run) -> Result<usize> {
    let before = run.now.plus(-time::Duration::minutes(STALE_JOB_MINUTES));
    let mut finished = 0;
    for id in store.unfinished_jobs(before, 50).await? {
        if Instant::now() >= run.stop_at {
            break;
        }
        match super::jobs::run(store, &id).await? {
            super::jobs::Outcome::NothingToDo => {}
            super::jobs::Outcome::Succeeded | super::jobs::Outcome::Failed(_) => finished += 1,
        }
    }
    Ok(finished)
}

pub async fn run(store: &Store, run: &Run) -> Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary {
        dry_run: run.dry_run,
        ..Summary::default()
    };
    if !run.dry_run {
        summary.pending_finished = pending::complete_all(store).await?;
        summary.jobs_finished = finish_stale_jobs(store, run).await?;
    }
    let cutoff = run.now.plus(-time::Duration::days(i64::from(run.retention_days)));
    let mut after = None;
    let mut given = run.tenant_ids.clone().map(|ids| ids.into_iter());
    'pages: loop {
        let candidates: Vec<Result<Tenant, Skipped>> = match &mut given {
            Some(ids) => {
                let Some(id) = ids.next() else { break };
                vec![given_candidate(store, id).await?]
            }
            None => {
                let (page, next) = store.retired_before(cutoff, 25, after.take()).await?;
                after = next;
                page.into_iter().map(Ok).collect()
            }
        };
        let mut due = Vec::new();
        for candidate in candidates {
            let tenant = match candidate {
                Ok(tenant) => tenant,
                Err(skipped) => {
                    summary.skipped.push(skipped);
                    continue;
                }
            };
            let skip = |reason: &str| Skipped {
                tenant_id: tenant.id.clone(),
                reason: reason.to_owned(),
            };
            if tenant.status != Status::Retired {
                summary.skipped.push(skip("not retired"));
            } else if tenant.retired_at.is_none_or(|at| at >= cutoff) {
                summary.skipped.push(skip("retired less than the retention period ago"));
            } else if tenant.child_count > 0 {
                summary.candidates += 1;
                summary.skipped.push(skip(
                    "has child tenants: they are purged first, or must be moved or deleted",
                ));
            } else {
                summary.candidates += 1;
                due.push(tenant);
            }
        }
        if run.dry_run {
            summary.purged.extend(due.into_iter().map(|t| t.id));
        } else {
            // A few purges at a time; each starts only before the stop time.
            let outcomes: Vec<(TenantId, Result<Option<Outcome>>)> = futures_util::stream::iter(due)
                .map(|tenant| async move {
                    let outcome = if Instant::now() >= run.stop_at {
                        Ok(None)
                    } else {
                        purge(store, &tenant, run).await.map(Some)
                    };
                    (tenant.id, outcome)
                })
                .buffer_unordered(PARALLEL_PURGES)
                .collect()
                .await;
            for (tenant_id, outcome) in outcomes {
                match outcome? {
                    None => summary.stopped_early = true,
                    Some(Outcome::Purged(items)) => {
                        summary.items_deleted += items;
                        summary.purged.push(tenant_id);
                    }
                    Some(Outcome::Skipped(reason)) => summary.skipped.push(Skipped { tenant_id, reason }),
                    Some(Outcome::Interrupted(items)) => {
                        summary.items_deleted += items;
                        summary.stopped_early = true;
                    }
                }
            }
            if summary.stopped_early {
                break 'pages;
            }
        }
        if Instant::now() >= run.stop_at && (given.is_some() || after.is_some()) {
            summary.stopped_early = true;
            break 'pages;
        }
        if given.is_none() && after.is_none() {
            break;
        }
    }
    summary.took_ms = started.elapsed().as_millis() as u64;
    tracing::info!(
        dry_run = summary.dry_run,
        candidates = summary.candidates,
        purged = summary.purged.len(),
        skipped = summary.skipped.len(),
        items_deleted = summary.items_deleted,
        stopped_early = summary.stopped_early,
        took_ms = summary.took_ms,
        "cleanup finished"
    );
    Ok(summary)
}

/// A tenant an operator named: read it afresh.
async fn given_candidate(store: &Store, id: TenantId) -> Result<Result<Tenant, Skipped>> {
    let skip = |reason: &str| {
        Err(Skipped {
            tenant_id: id.clone(),
            reason: reason.to_owned(),
        })
    };
    Ok(match store.tenant_entry(&id).await? {
        TenantEntry::Tenant(tenant) => Ok(*tenant),
        TenantEntry::Purged { .. } => skip("already purged"),
        TenantEntry::Missing => skip("no such tenant"),
    })
}

async fn purge(store: &Store, tenant: &Tenant, run: &Run) -> Result<Outcome> {
    let marked = match tenant.purge_started_at {
        Some(_) => tenant.clone(),
        None => match store.mark_purging(tenant, run.now).await? {
            Some(marked) => marked,
            None => return Ok(Outcome::Skipped("restored or changed since it was selected".into())),
        },
    };
    // Domain claims live outside the tenant's partition: release them (with
    // the providers that name them) before the rest goes by key.
    let mut deleted = 0;
    if !marked.identity_provider_ids.is_empty() {
        deleted += store
            .delete_identity_providers_of(&marked.id, marked.created_at)
            .await? as u64;
    }
    loop {
        let keys = store.owned_keys(&marked, BATCH).await?;
        if keys.is_empty() {
            break;
        }
        deleted += store.delete_items(keys).await? as u64;
        if Instant::now() >= run.stop_at {
            return Ok(Outcome::Interrupted(deleted));
        }
    }
    // The job that made a clone lives in a partition of its own.
    if let Some(job) = &marked.clone_job_id {
        store.delete_job(job).await?;
        deleted += 1;
    }
    let expires = run.now.plus(time::Duration::days(TOMBSTONE_DAYS));
    if store.finish_purge(&marked, run.now, expires).await? {
        Ok(Outcome::Purged(deleted + 2))
    } else {
        Ok(Outcome::Skipped("changed during the purge".into()))
    }
}
