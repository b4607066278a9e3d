//! Running a clone job (what the `jobs` function does for each stream record
//! of a queued job). Records repeat and arrive out of order, so every step
//! is a conditional write and running a job twice does it once:
//!
//! 1. `queued`/`running` → `running` (a finished job stops here);
//! 2. one transaction: the source's latest configuration becomes the new
//!    tenant's version 1, the tenant turns `active`, the job `succeeded`;
//! 3. or, when the source is gone: the job notes why, the new tenant is
//!    removed, the job turns `failed`.

use super::contention::{self, Retry};
use super::tenants::remove_unfinished_clone;
use crate::domain::audit::AuditEvent;
use crate::domain::deployment::{ClonedFrom, Configuration, Deployment, Job, JobStatus};
use crate::domain::tenant::Stamp;
use crate::domain::{Status, Tenant, Timestamp};
use crate::error::Result;
use crate::store::tenants::{TenantEntry, WriteFailure, WrittenWith};
use crate::store::Store;

/// Who the audit fields of a job's changes name.
pub const ACTOR: &str = "tenancy-jobs";

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed(String),
    /// Finished before (a repeated record), or no such job.
    NothingToDo,
}

/// Runs the job `id` to its end.
pub async fn run(store: &Store, id: &str) -> Result<Outcome> {
    let Some(job) = store.start_job(id, Timestamp::now()).await? else {
        return Ok(Outcome::NothingToDo);
    };
    if let Some(reason) = job.error.clone() {
        // An earlier run decided to fail it and was cut short.
        return fail(store, &job, &reason).await;
    }
    let mut retry = Retry::new();
    while retry.next().await {
        let target = match store.get_tenant(&job.target_tenant_id).await? {
            Some(t) if t.status == Status::Provisioning && t.clone_job_id.as_deref() == Some(id) => t,
            _ => return fail(store, &job, "the new tenant was deleted before the clone finished").await,
        };
        let source = match store.tenant_entry(&job.source_tenant_id).await? {
            TenantEntry::Tenant(source) if job.source_created_at.is_none_or(|at| at == source.created_at) => *source,
            TenantEntry::Tenant(_) => {
                let reason = format!(
                    "source tenant '{}' no longer exists (its id names a newer tenant)",
                    job.source_tenant_id
                );
                return fail(store, &job, &reason).await;
            }
            TenantEntry::Purged { .. } | TenantEntry::Missing => {
                let reason = format!("source tenant '{}' no longer exists", job.source_tenant_id);
                return fail(store, &job, &reason).await;
            }
        };
        let copied = match source.configuration_version {
            0 => None,
            version => match configuration_of(store, &source, version).await? {
                Some(configuration) => Some((version, configuration)),
                // Deleted meanwhile: read the source again.
                None => continue,
            },
        };
        let change = Stamp {
            actor: ACTOR.into(),
            at: Timestamp::now(),
        };
        let next = target.provisioned(copied.as_ref().map(|(_, c)| c.sha256.as_str()), &change);
        let event = AuditEvent::of(Some(&target), &next);
        let mut extra =
            vec![store.finish_job_action(id, JobStatus::Succeeded, copied.as_ref().map(|(v, _)| *v), change.at)?];
        if let Some((version, configuration)) = &copied {
            let from = ClonedFrom {
                tenant_id: source.id.clone(),
                version: *version,
            };
            let deployment = Deployment::of(&target.id, 1, configuration, change.at, ACTOR, Some(from));
            extra.extend(store.deployment_actions(&deployment, configuration, target.created_at)?);
        }
        let with = WrittenWith {
            event: Some(&event),
            extra,
            ..Default::default()
        };
        match store.update_tenant_if_version(&target, &next, with).await {
            Ok(()) => return Ok(Outcome::Succeeded),
            // The job was finished by another run of the same record.
            Err(WriteFailure::ExtraFailed(failed)) if failed.contains(&0) => return Ok(Outcome::NothingToDo),
            Err(WriteFailure::Other(e)) => return Err(e),
            Err(_) => continue,
        }
    }
    Err(contention::exhausted(format_args!("job '{id}'"), &retry))
}

/// The source's configuration `version` (metadata and bytes), as it was deployed.
async fn configuration_of(store: &Store, source: &Tenant, version: u64) -> Result<Option<Configuration>> {
    let Some(deployment) = store.get_deployment(source, version).await? else {
        return Ok(None);
    };
    let Some(bytes) = store.get_deployment_content(source, version).await? else {
        return Ok(None);
    };
    Ok(Some(Configuration {
        format: deployment.format,
        sha256: deployment.sha256,
        bytes,
        result: deployment.result,
    }))
}

/// Fails a running job: notes the reason, removes its new tenant (if it is
/// still this job's), then ends the job.
async fn fail(store: &Store, job: &Job, reason: &str) -> Result<Outcome> {
    if !store.note_job_error(&job.id, reason).await? {
        return Ok(Outcome::NothingToDo);
    }
    if let Some(target) = store.get_tenant(&job.target_tenant_id).await? {
        if target.status == Status::Provisioning && target.clone_job_id.as_deref() == Some(job.id.as_str()) {
            remove_unfinished_clone(store, &target).await?;
        }
    }
    store.finish_job(&job.id, JobStatus::Failed, Timestamp::now()).await?;
    Ok(Outcome::Failed(reason.to_owned()))
}
