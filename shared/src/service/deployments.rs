//! Deployment use cases: deploy a configuration version, read the versions
//! and their bytes, clone a tenant into a new one, and read a clone's job.
//!
//! Reads need a viewer role on the tenant, a deploy an operator role. A
//! clone creates a tenant beside its source, so it needs what a create
//! there needs (admin on the parent, or a platform admin for a top-level one).

use serde_json::{json, Value};

use super::access;
use super::contention::{self, Retry};
use super::tenants::{self, Created, CreatedWith};
use crate::auth::{Caller, TenantRole};
use crate::domain::audit::AuditEvent;
use crate::domain::deployment::{CloneInput, Configuration, Deployment, Job, JobKind};
use crate::domain::tenant::{InputMode, Placement, Stamp};
use crate::domain::{Tenant, TenantId, TenantInput};
use crate::error::{Code, Error, Result};
use crate::store::tenants::{WriteFailure, WrittenWith};
use crate::store::Store;

fn not_found(tenant_id: &TenantId, version: u64) -> Error {
    Error::NotFound {
        kind: "deployment",
        id: format!("{version}' of tenant '{tenant_id}"),
    }
}

/// What a deploy did.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub deployment: Deployment,
    /// `false`: the bytes were those of the current version, which is answered.
    pub created: bool,
}

/// Deploys `configuration` as the tenant's next version, unless it is the
/// current one byte for byte.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn deploy(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    configuration: Configuration,
    change: &Stamp,
) -> Result<Deployed> {
    let mut retry = Retry::new();
    while retry.next().await {
        let tenant = access::tenant(store, caller, tenant_id, TenantRole::Operator).await?;
        tenant.ensure_changeable()?;
        if tenant.configuration_sha256.as_deref() == Some(configuration.sha256.as_str()) {
            if let Some(current) = store.get_deployment(&tenant, tenant.configuration_version).await? {
                return Ok(Deployed {
                    deployment: current,
                    created: false,
                });
            }
        }
        let version = tenant.configuration_version + 1;
        let deployment = Deployment::of(tenant_id, version, &configuration, change.at, &change.actor, None);
        let next = tenant.deployed(version, &configuration.sha256, change);
        let event = AuditEvent::of(Some(&tenant), &next);
        let with = WrittenWith {
            event: Some(&event),
            extra: store.deployment_actions(&deployment, &configuration, tenant.created_at)?,
            ..Default::default()
        };
        match store.update_tenant_if_version(&tenant, &next, with).await {
            Ok(()) => {
                return Ok(Deployed {
                    deployment,
                    created: true,
                })
            }
            Err(WriteFailure::Other(e)) => return Err(e),
            // Another deploy (or change) won: read the new state and go again.
            Err(_) => {}
        }
    }
    Err(contention::exhausted(format_args!("tenant '{tenant_id}'"), &retry))
}

/// A page of a tenant's deployments, newest first.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn list(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    limit: usize,
    before: Option<u64>,
) -> Result<(Vec<Deployment>, Option<u64>)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    store.list_deployments(&tenant, limit, before).await
}

/// One deployment's metadata.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn get(store: &Store, caller: &Caller, tenant_id: &TenantId, version: u64) -> Result<Deployment> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    store
        .get_deployment(&tenant, version)
        .await?
        .ok_or_else(|| not_found(tenant_id, version))
}

/// One deployment's metadata and original bytes.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn download(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    version: u64,
) -> Result<(Deployment, Vec<u8>)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    let deployment = store
        .get_deployment(&tenant, version)
        .await?
        .ok_or_else(|| not_found(tenant_id, version))?;
    let bytes = store
        .get_deployment_content(&tenant, version)
        .await?
        .ok_or_else(|| not_found(tenant_id, version))?;
    Ok((deployment, bytes))
}

/// Starts a clone: the new tenant (`provisioning`) and its queued job are
/// written in one transaction; the `jobs` function does the rest.
#[tracing::instrument(skip_all, fields(tenant_id = %source_id))]
pub async fn clone(
    store: &Store,
    caller: &Caller,
    source_id: &TenantId,
    input: CloneInput,
    change: &Stamp,
) -> Result<(Tenant, Job)> {
    let source = access::tenant(store, caller, source_id, TenantRole::Viewer).await?;
    source.ensure_changeable()?;
    let mut body = json!({
        "name": input.name.as_str(),
        "type": source.tenant_type,
        "environment": input.environment,
        "tags": source.tags,
        "settings": source.settings,
    });
    if let Some(id) = &input.tenant_id {
        body["tenantId"] = Value::from(id.as_str());
    }
    if let Some(description) = &input.description {
        body["description"] = Value::from(description.as_str());
    }
    // Authorised as a create at that place (admin on the parent; the top
    // level: a platform admin or the creator role, who becomes its admin).
    let parent = match &input.placement {
        Placement::Keep => source.parent_id.as_ref(),
        Placement::TopLevel => None,
        Placement::Under(parent) => Some(parent),
    };
    body["parentId"] = parent.map_or(Value::Null, |p| Value::from(p.as_str()));
    if let Some(reseller) = &source.reseller_id {
        body["resellerId"] = Value::from(reseller.as_str());
    }
    let Value::Object(body) = body else {
        return Err(Error::internal("a clone's body is an object"));
    };
    let tenant_input = TenantInput::parse(&body, InputMode::Create).map_err(Error::Invalid)?;
    let created_with = CreatedWith {
        configuration: None,
        clone_of: Some((source.id.clone(), source.created_at, JobKind::of(input.environment))),
    };
    let created = match tenants::create(store, caller, tenant_input, change, None, created_with).await {
        // Beside its source, the parent is one the client did not name: a
        // member below it cannot see it, and is told what it may do instead.
        Err(Error::Invalid(errors))
            if input.placement == Placement::Keep && errors.iter().any(|e| e.field == "parentId") =>
        {
            return Err(Error::Forbidden(
                Code::RoleTooLow,
                format!(
                    "a clone of '{}' goes beside it, under '{}', which needs the admin role there; \
                     name a parentId where you are admin (the source itself, for one)",
                    source.id,
                    parent.map(TenantId::as_str).unwrap_or_default()
                ),
            ));
        }
        other => other?,
    };
    match created {
        Created::New(new) => match new.job {
            Some(job) => Ok((new.tenant, job)),
            None => Err(Error::internal("a clone's create queued no job")),
        },
        Created::Replayed { .. } => Err(Error::internal("a clone has no idempotency key to replay")),
    }
}

/// A job, if the caller sees its new tenant or its source as they were when
/// the job was made: the same incarnations (a tenant that took one of their
/// ids later is not the job's, and its members do not see the job). A
/// platform admin sees every job, also once both are gone.
#[tracing::instrument(skip_all, fields(job_id = %id))]
pub async fn job(store: &Store, caller: &Caller, id: &str) -> Result<Job> {
    let hidden = || Error::NotFound {
        kind: "job",
        id: id.to_owned(),
    };
    let job = store.get_job(id).await?.ok_or_else(hidden)?;
    if caller.platform_admin {
        return Ok(job);
    }
    let tenants = [
        (job.target_tenant_id.clone(), job.target_created_at),
        (job.source_tenant_id.clone(), job.source_created_at),
    ];
    for (tenant_id, created_at) in tenants {
        // A tenant that took the id later is not the job's. A job written
        // before it kept the incarnations: one born after the job is not.
        let Some(tenant) = store.get_tenant(&tenant_id).await? else {
            continue;
        };
        if created_at.map_or(tenant.created_at <= job.created_at, |at| at == tenant.created_at)
            && access::role_on(store, caller, &tenant).await?.is_some()
        {
            return Ok(job);
        }
    }
    Err(hidden())
}
