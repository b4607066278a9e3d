//! Create: a new tenant (or a clone's), with its name guard, its place in
//! the hierarchy, its creator's membership, an inline configuration and the
//! idempotency record, in one transaction.

use serde::Serialize;

use super::hierarchy::{ancestors_of, receiving_parent, top_level_allowed};
use super::name_taken;
use super::plan::check_depth;
use crate::auth::{Caller, TenantRole};
use crate::domain::audit::AuditEvent;
use crate::domain::deployment::{Configuration, Deployment, Job, JobKind};
use crate::domain::member::Member;
use crate::domain::tenant::{Placement, Stamp, TenantView};
use crate::domain::{Status, Tenant, TenantId, TenantInput, Timestamp, UserId};
use crate::error::{Code, Error, Result};
use crate::service::access;
use crate::service::contention::{self, Retry};
use crate::store::tenants::{ParentDelta, TenantEntry, WriteFailure, WrittenWith};
use crate::store::Store;

/// How a create with an idempotency key is remembered.
pub struct Idempotency {
    pub key: crate::store::keys::Key,
    /// SHA-256 of the request body.
    pub fingerprint: String,
}

/// What a create did: created the tenant, or replayed an earlier answer.
pub enum Created {
    New(Box<NewTenant>),
    Replayed { status: u16, body: String },
}

/// A new tenant, with the deployment its inline configuration made (the
/// answer to a create: the tenant's fields plus `deployment`).
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub tenant: Tenant,
    pub deployment: Option<Deployment>,
    /// The queued job of a clone's new tenant (not part of the answer).
    pub job: Option<Job>,
}

impl Serialize for NewTenant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Answer<'a> {
            #[serde(flatten)]
            tenant: TenantView<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            deployment: Option<&'a Deployment>,
        }
        Answer {
            tenant: self.tenant.view(),
            deployment: self.deployment.as_ref(),
        }
        .serialize(serializer)
    }
}

/// What a new tenant is created with, in the same transaction: an inline
/// configuration, or the clone it starts as.
#[derive(Debug, Clone, Default)]
pub struct CreatedWith {
    /// Deployed as version 1 (Socotra's create with a configuration).
    pub configuration: Option<Configuration>,
    /// The tenant is a clone of this tenant: it starts `provisioning`, and
    /// its job is queued with it.
    pub clone_of: Option<(TenantId, Timestamp, JobKind)>,
}

/// How long an idempotency key is remembered.
const IDEMPOTENCY_HOURS: i64 = 24;

#[tracing::instrument(skip_all, fields(tenant_id = tracing::field::Empty))]
pub async fn create(
    store: &Store,
    caller: &Caller,
    input: TenantInput,
    change: &Stamp,
    idempotency: Option<&Idempotency>,
    created_with: CreatedWith,
) -> Result<Created> {
    if let Some(replay) = replay(store, idempotency, change).await? {
        return Ok(replay);
    }
    let id = input.tenant_id.clone().unwrap_or_else(TenantId::generate);
    tracing::Span::current().record("tenant_id", id.as_str());
    let mut base = Tenant::create(input.clone(), id.clone(), change);
    let job = created_with
        .clone_of
        .as_ref()
        .map(|(source, created, kind)| Job::queued(*kind, (source, *created), &id, change.at, &change.actor));
    if let Some(job) = &job {
        base.status = Status::Provisioning;
        base.cloned_from = Some(job.source_tenant_id.clone());
        base.clone_job_id = Some(job.id.clone());
    }
    let deployment = created_with
        .configuration
        .as_ref()
        .map(|c| Deployment::of(&id, 1, c, change.at, &change.actor, None));
    if let Some(configuration) = &created_with.configuration {
        base.configuration_version = 1;
        base.configuration_sha256 = Some(configuration.sha256.clone());
    }
    let mut retry = Retry::new();
    while retry.next().await {
        let parent = match &input.placement {
            Placement::Under(parent_id) => Some(receiving_parent(store, caller, parent_id, TenantRole::Admin).await?),
            Placement::Keep | Placement::TopLevel => {
                top_level_allowed(caller)?;
                None
            }
        };
        if let Some(parent) = &parent {
            check_depth(parent.depth + 1)?;
        }
        let tenant = base.placed(parent.as_ref());
        let ancestors = ancestors_of(store, parent.as_ref()).await?;
        let event = AuditEvent::of(None, &tenant);
        let created = NewTenant {
            tenant: tenant.clone(),
            deployment: deployment.clone(),
            job: job.clone(),
        };
        let body = serde_json::to_string(&created).map_err(Error::internal)?;
        let record = idempotency.map(|i| {
            let expires = change.at.plus(time::Duration::hours(IDEMPOTENCY_HOURS));
            (
                crate::store::records::idempotency_item(&i.key, &i.fingerprint, 201, &body, expires),
                change.at,
            )
        });
        // The creator of a top-level tenant becomes its admin member.
        let mut extra = match parent {
            Some(_) => Vec::new(),
            None => vec![store.put_action(creator_membership(caller, &tenant, change)?)?],
        };
        if let (Some(deployment), Some(configuration)) = (&deployment, &created_with.configuration) {
            extra.extend(store.deployment_actions(deployment, configuration, tenant.created_at)?);
        }
        if let Some(job) = &job {
            extra.push(store.job_action(job)?);
        }
        let with = WrittenWith {
            event: Some(&event),
            parents: parent.iter().map(ParentDelta::Gains).collect(),
            unchanged_paths: ancestors.iter().collect(),
            extra,
            ..Default::default()
        };
        match store.create_tenant(&tenant, record, with).await {
            Ok(()) => return Ok(Created::New(Box::new(created))),
            Err(WriteFailure::AlreadyExists) => {
                // The id is taken either way; when it was purged is told
                // only to those who could have seen its tenant.
                let taken = || Error::Conflict(Code::IdTaken, format!("a tenant with id '{id}' already exists"));
                return Err(match store.tenant_entry(&id).await? {
                    TenantEntry::Purged { purged_at, path }
                        if access::could_have_seen(store, caller, &path, &purged_at).await? =>
                    {
                        Error::Conflict(Code::IdRecentlyPurged, format!(
                            "id '{id}' belonged to a tenant purged at {purged_at}; it is free again {} days after the purge",
                            crate::service::cleanup::TOMBSTONE_DAYS
                        ))
                    }
                    _ => taken(),
                });
            }
            Err(WriteFailure::NameTaken) => return Err(name_taken(&tenant.name)),
            Err(failure @ (WriteFailure::IdempotencyKeyUsed | WriteFailure::Contended)) => {
                if let Some(replay) = replay(store, idempotency, change).await? {
                    return Ok(replay);
                }
                if matches!(failure, WriteFailure::IdempotencyKeyUsed) {
                    return Err(Error::Conflict(
                        Code::IdempotencyKeyInUse,
                        "the idempotency key is in use by another request; retry".into(),
                    ));
                }
            }
            // The extra items are new ones under a new tenant's key: if the
            // tenant is new, they are too.
            Err(WriteFailure::HierarchyChanged | WriteFailure::VersionChanged | WriteFailure::ExtraFailed(_)) => {}
            Err(WriteFailure::Other(e)) => return Err(e),
        }
    }
    Err(contention::exhausted(format_args!("tenant '{id}'"), &retry))
}

/// The stored answer for this key, if any: replayed when the body is the
/// same, refused (422) when it is not.
async fn replay(store: &Store, idempotency: Option<&Idempotency>, change: &Stamp) -> Result<Option<Created>> {
    let Some(idempotency) = idempotency else {
        return Ok(None);
    };
    match store.stored_answer(&idempotency.key, change.at).await? {
        None => Ok(None),
        Some(answer) if answer.fingerprint == idempotency.fingerprint => Ok(Some(Created::Replayed {
            status: answer.status,
            body: answer.body,
        })),
        Some(_) => Err(Error::Unprocessable(
            Code::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request body; use a new key for a new request".into(),
        )),
    }
}

/// The membership that makes the creator of a tenant its admin.
fn creator_membership(caller: &Caller, tenant: &Tenant, change: &Stamp) -> Result<crate::store::records::Item> {
    let user_id = UserId::parse(&caller.subject).map_err(|_| {
        Error::Forbidden(
            Code::InvalidSubject,
            "the token's subject is not a valid user id".into(),
        )
    })?;
    let member = Member {
        tenant_id: tenant.id.clone(),
        user_id,
        role: TenantRole::Admin,
        added_at: change.at,
        added_by: change.actor.clone(),
    };
    crate::store::records::member_item(&member, tenant.created_at)
}
