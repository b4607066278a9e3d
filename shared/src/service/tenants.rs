//! Tenant use cases: create, read, list, replace, patch, move, retire,
//! restore, delete, and the hierarchy and history reads.
//!
//! Every change is read → change → one conditional transaction. A write
//! that loses a race is redone on the new state (a caller without `If-Match`
//! asked for "the current one"), or answers 412 when the caller named a
//! version that is no longer current. Work a transaction cannot hold (a
//! moved subtree's paths, a renamed parent's children, a deleted tenant's
//! history) is recorded in the same transaction and done right after.

use serde::Serialize;
use serde_json::{Map, Value};

use super::contention::{self, Retry};
use super::{access, pending, subtenants, Expected};
use crate::domain::audit::AuditEvent;
use crate::domain::deployment::{Configuration, Deployment, Job, JobKind};
use crate::domain::merge_patch;
use crate::domain::query::TenantQuery;
use crate::domain::tenant::{limits::MAX_DEPTH, Change, InputMode, Placement};

use crate::auth::{Caller, Permission, TenantRole};
use crate::domain::member::Member;
use crate::domain::{Environment, Status, Tenant, TenantId, TenantInput, TenantName, Timestamp, UserId};
use crate::error::{Code, Error, Result};
use crate::store::subtenants::SubtenantOrder;
use crate::store::tenants::{NameHolder, ParentDelta, TenantEntry, TenantWrite, WriteFailure};
use crate::store::work::{Pending, Work};
use crate::store::{ListPosition, Page, Store};

fn not_found(id: &TenantId) -> Error {
    Error::NotFound {
        kind: "tenant",
        id: id.to_string(),
    }
}

/// An ancestor vanished between two reads: another request is moving or
/// deleting the hierarchy right now.
fn contended(id: &TenantId) -> Error {
    Error::Contended(format!(
        "the ancestors of tenant '{id}' are being changed by other requests"
    ))
}

fn name_taken(name: &TenantName) -> Error {
    Error::Conflict(Code::NameTaken, format!("a tenant named '{name}' already exists"))
}

/// Reads a tenant, whoever asks (for the use cases' own reads).
async fn read(store: &Store, id: &TenantId) -> Result<Tenant> {
    match store.tenant_entry(id).await? {
        TenantEntry::Tenant(tenant) => Ok(*tenant),
        TenantEntry::Purged { .. } => Err(Error::Gone {
            kind: "tenant",
            id: id.to_string(),
        }),
        TenantEntry::Missing => Err(not_found(id)),
    }
}

/// A tenant the caller may see.
pub async fn get(store: &Store, caller: &Caller, id: &TenantId) -> Result<Tenant> {
    access::tenant(store, caller, id, TenantRole::Viewer).await
}

/// Lookup by name, case-insensitively: the name's guard, then the tenant.
/// A name whose last holder was purged answers 410, as that tenant's id
/// does, and only to those who could have seen it (404 to anyone else).
pub async fn get_by_name(store: &Store, caller: &Caller, name: &str) -> Result<Tenant> {
    let name = TenantName::parse(name).map_err(|m| Error::invalid("name", m))?;
    let missing = || Error::NotFound {
        kind: "tenant named",
        id: name.to_string(),
    };
    let hidden = |e: Error| match e {
        Error::NotFound { .. } => missing(),
        other => other,
    };
    match store.name_holder(&name.key()).await? {
        NameHolder::Tenant(id) => {
            let tenant = store.get_tenant(&id).await?.ok_or_else(missing)?;
            access::require(store, caller, &tenant, TenantRole::Viewer)
                .await
                .map_err(hidden)?;
            Ok(tenant)
        }
        NameHolder::Purged { id, purged_at } => match store.tenant_entry(&id).await? {
            // The tombstone of that purge (not a later tenant of the id).
            TenantEntry::Purged { purged_at: at, path }
                if at == purged_at && access::could_have_seen(store, caller, &path, &at).await? =>
            {
                Err(Error::Gone {
                    kind: "tenant named",
                    id: name.to_string(),
                })
            }
            _ => Err(missing()),
        },
        NameHolder::Nobody => Err(missing()),
    }
}

/// The query narrowed to what the caller may see: a platform admin sees
/// everything; anyone else the subtrees of its memberships, minus what an
/// inactive or retired tenant hides from it (see `access`).
pub async fn visible(store: &Store, caller: &Caller, query: TenantQuery) -> Result<TenantQuery> {
    match access::roots(store, caller).await? {
        None => Ok(query),
        Some(roots) => Ok(TenantQuery {
            see_through: roots
                .iter()
                .filter(|r| r.role == TenantRole::Admin)
                .map(|r| r.id.clone())
                .collect(),
            within: Some(roots.into_iter().map(|r| r.id).collect()),
            active_ancestors: true,
            ..query
        }),
    }
}

/// A page of a (visible) query.
pub async fn list(store: &Store, query: &TenantQuery, from: Option<&ListPosition>) -> Result<Page<Tenant>> {
    store.list_tenants(query, from).await
}

/// The page that starts `offset` matches in (`page`/`offset` paging, kept
/// for compatibility): the pages before it are read and dropped.
pub async fn list_from_offset(store: &Store, query: &TenantQuery, offset: usize) -> Result<Page<Tenant>> {
    let mut skipped = 0;
    let mut from: Option<ListPosition> = None;
    while skipped < offset {
        let step = TenantQuery {
            limit: (offset - skipped).min(100),
            ..query.clone()
        };
        let page = store.list_tenants(&step, from.as_ref()).await?;
        skipped += page.items.len();
        match page.next {
            Some(next) => from = Some(next),
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                })
            }
        }
    }
    store.list_tenants(query, from.as_ref()).await
}

pub async fn count(store: &Store, query: &TenantQuery) -> Result<u64> {
    store.count_tenants(query).await
}

/// The ancestors of a tenant the caller may see, root first, as far up as
/// the caller may see (one `GetItem`, one `BatchGetItem`, and for a
/// non-admin the membership reads).
pub async fn ancestors(store: &Store, caller: &Caller, id: &TenantId) -> Result<Vec<Tenant>> {
    let tenant = get(store, caller, id).await?;
    let ids = &tenant.path[..tenant.path.len().saturating_sub(1)];
    let mut found = store.get_tenants(ids).await?;
    let ancestors = ids.iter().filter_map(|id| found.remove(id)).collect();
    access::visible_ancestors(store, caller, &tenant, ancestors).await
}

/// A page of a tenant's audit history, newest first.
pub async fn history(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    limit: usize,
    before: Option<u64>,
) -> Result<(Vec<AuditEvent>, Option<u64>)> {
    let tenant = get(store, caller, id).await?;
    store.list_events(&tenant, limit, before).await
}

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
#[derive(Debug, Clone, Serialize)]
pub struct NewTenant {
    #[serde(flatten)]
    pub tenant: Tenant,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// The queued job of a clone's new tenant.
    #[serde(skip)]
    pub job: Option<Job>,
}

/// What a create may bring along, in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Deployed as version 1 (Socotra's create with a configuration).
    pub configuration: Option<Configuration>,
    /// The tenant is a clone of this tenant: it starts `provisioning`, and
    /// its job is queued with it.
    pub clone_of: Option<(TenantId, Timestamp, JobKind)>,
}

/// How long an idempotency key is remembered.
const IDEMPOTENCY_HOURS: i64 = 24;

pub async fn create(
    store: &Store,
    caller: &Caller,
    input: TenantInput,
    change: &Change,
    idempotency: Option<&Idempotency>,
    extras: Extras,
) -> Result<Created> {
    if let Some(replay) = replay(store, idempotency, change).await? {
        return Ok(replay);
    }
    let id = input.tenant_id.clone().unwrap_or_else(TenantId::generate);
    let mut base = Tenant::create(input.clone(), id.clone(), change);
    let job = extras
        .clone_of
        .as_ref()
        .map(|(source, created, kind)| Job::queued(*kind, (source, *created), &id, change.at, &change.actor));
    if let Some(job) = &job {
        base.status = Status::Provisioning;
        base.cloned_from = Some(job.source_tenant_id.clone());
        base.clone_job_id = Some(job.id.clone());
    }
    let deployment = extras
        .configuration
        .as_ref()
        .map(|c| Deployment::of(&id, 1, c, change.at, &change.actor, None));
    if let Some(configuration) = &extras.configuration {
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
        if let (Some(deployment), Some(configuration)) = (&deployment, &extras.configuration) {
            extra.extend(store.deployment_actions(deployment, configuration, tenant.created_at)?);
        }
        if let Some(job) = &job {
            extra.push(store.job_action(job)?);
        }
        let write = TenantWrite {
            after: Some(&tenant),
            event: Some(&event),
            parents: parent.iter().map(ParentDelta::Gains).collect(),
            unchanged_paths: ancestors.iter().collect(),
            idempotency: record,
            extra,
            ..Default::default()
        };
        match store.commit(&write).await {
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
                            super::cleanup::TOMBSTONE_DAYS
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
async fn replay(store: &Store, idempotency: Option<&Idempotency>, change: &Change) -> Result<Option<Created>> {
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

/// A parent that can take a child: it exists, the caller sees it with at
/// least `needs` (one it cannot see is, to it, no tenant), and it is not retired.
async fn receiving_parent(store: &Store, caller: &Caller, parent_id: &TenantId, needs: TenantRole) -> Result<Tenant> {
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
fn top_level_allowed(caller: &Caller) -> Result<()> {
    if caller.may_create_top_level {
        Ok(())
    } else {
        Err(Error::Forbidden(
            Code::PlatformAdminRequired,
            "a top-level tenant can only be created (or moved to the top) by a platform admin".into(),
        ))
    }
}

/// The membership that makes the creator of a tenant its admin.
fn creator_membership(caller: &Caller, tenant: &Tenant, change: &Change) -> Result<crate::store::records::Item> {
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

fn check_depth(depth: u32) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Conflict(
            Code::TooDeep,
            format!(
                "the hierarchy is at most {} levels deep; this would put a tenant at depth {depth}",
                MAX_DEPTH + 1
            ),
        ));
    }
    Ok(())
}

/// The ancestors of a (new) parent, whose paths the write checks unchanged.
async fn ancestors_of(store: &Store, parent: Option<&Tenant>) -> Result<Vec<Tenant>> {
    let Some(parent) = parent else { return Ok(Vec::new()) };
    let ids = &parent.path[..parent.path.len().saturating_sub(1)];
    let mut found = store.get_tenants_consistent(ids).await?;
    ids.iter()
        .map(|id| found.remove(id).ok_or_else(|| contended(&parent.id)))
        .collect()
}

pub async fn replace(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    input: TenantInput,
    expected: Option<&Expected>,
    reseller: ResellerPolicy,
    change: &Change,
) -> Result<Updated> {
    update(
        store,
        caller,
        id,
        UpdateTerms {
            needs: TenantRole::Operator,
            expected,
            reseller,
            reason: None,
        },
        |current| {
            let next = current.replaced(input.clone(), change)?;
            Ok((next, input.placement.clone()))
        },
    )
    .await
}

/// Applies a JSON Merge Patch to the tenant's writable fields, then
/// validates the result as a whole (every error listed).
pub async fn patch(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    patch: &Map<String, Value>,
    expected: Option<&Expected>,
    reseller: ResellerPolicy,
    change: &Change,
) -> Result<Updated> {
    let patch = Value::Object(patch.clone());
    update(
        store,
        caller,
        id,
        UpdateTerms {
            needs: TenantRole::Operator,
            expected,
            reseller,
            reason: None,
        },
        |current| {
            current.ensure_changeable()?;
            let mut document = current.writable_document();
            merge_patch::apply(&mut document, &patch);
            let Value::Object(fields) = document else {
                unreachable!("an object patched by an object stays an object")
            };
            let input = TenantInput::parse(&fields, InputMode::Patched).map_err(Error::Invalid)?;
            let next = current.replaced(input.clone(), change)?;
            Ok((next, input.placement))
        },
    )
    .await
}

pub async fn retire(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    reason: Option<String>,
    expected: Option<&Expected>,
    change: &Change,
) -> Result<Tenant> {
    let edit = |current: &Tenant| Ok((current.retired(reason.clone(), change)?, Placement::Keep));
    Ok(update(
        store,
        caller,
        id,
        UpdateTerms {
            needs: TenantRole::Admin,
            expected,
            reseller: ResellerPolicy::default(),
            reason: None,
        },
        edit,
    )
    .await?
    .tenant)
}

/// Brings a retired tenant back; `reason`, if given, is kept in the
/// change's audit event.
pub async fn restore(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    reason: Option<String>,
    expected: Option<&Expected>,
    change: &Change,
) -> Result<Tenant> {
    let edit = |current: &Tenant| Ok((current.restored(change)?, Placement::Keep));
    Ok(update(
        store,
        caller,
        id,
        UpdateTerms {
            needs: TenantRole::Admin,
            expected,
            reseller: ResellerPolicy::default(),
            reason: reason.as_deref(),
        },
        edit,
    )
    .await?
    .tenant)
}

/// What a tenant update does with the tenant's subtenants when its
/// `resellerId` changes (Netaxis' `noResellerIdToGroups` and
/// `forceResellerIdToGroups`): by default, subtenants that had the old
/// reseller get the new one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResellerPolicy {
    /// Leave the subtenants as they are.
    pub no_propagation: bool,
    /// Give every subtenant the tenant's reseller.
    pub force: bool,
}

impl ResellerPolicy {
    /// The policy the two flags ask for: `no` wins over `force` (Netaxis:
    /// force "is ignored if noResellerIdToGroups is present and true").
    pub fn of_flags(no_propagation: bool, force: bool) -> Self {
        Self {
            no_propagation,
            force: force && !no_propagation,
        }
    }
}

/// An updated tenant, and how many of its subtenants took its new reseller
/// (`None`: the propagation was cut off and the clean-up finishes it).
#[derive(Debug, Clone)]
pub struct Updated {
    pub tenant: Tenant,
    pub subtenants_updated: Option<u64>,
}

/// Where a change puts the tenant: nowhere new, or under this parent (or the top).
enum Move {
    Stay,
    To(Option<Box<Tenant>>),
}

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
async fn resolve_move(
    store: &Store,
    caller: &Caller,
    role: TenantRole,
    current: &Tenant,
    placement: &Placement,
) -> Result<Move> {
    let destination = match placement {
        Placement::Keep => return Ok(Move::Stay),
        Placement::TopLevel if current.parent_id.is_none() => return Ok(Move::Stay),
        Placement::Under(parent_id) if current.parent_id.as_ref() == Some(parent_id) => return Ok(Move::Stay),
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
        return Ok(Move::To(None));
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
    Ok(Move::To(Some(Box::new(parent))))
}

/// What an update may change only with more than the role it needs:
///
/// - `status` (`active` ⇄ `inactive`): the admin role, as retire and
///   restore; an operator could otherwise hide a subtree from its members;
/// - `environment` to `production`: the `deployments:cloneProduction`
///   permission (or a platform admin), since a test tenant (a clone made
///   with `deployments:cloneTest`, say) turned production is a production
///   clone. Back to `test` needs nothing more.
fn check_administered_fields(caller: &Caller, role: TenantRole, current: &Tenant, next: &Tenant) -> Result<()> {
    if next.status != current.status && role < TenantRole::Admin {
        return Err(Error::Forbidden(
            Code::RoleTooLow,
            format!(
                "changing the status of tenant '{}' needs the admin role on it; yours is {}",
                current.id,
                role.as_str()
            ),
        ));
    }
    if next.environment == Environment::Production
        && current.environment != Environment::Production
        && !caller.platform_admin
    {
        caller.require(Permission::DeploymentsCloneProduction).map_err(|_| {
            Error::Forbidden(
                Code::PermissionMissing,
                format!(
                    "making tenant '{}' a production tenant needs the permission '{}', which the token does not grant",
                    current.id,
                    Permission::DeploymentsCloneProduction.name()
                ),
            )
        })?;
    }
    Ok(())
}

/// What an update asks beyond its edit: the role it needs, the version
/// it expects, how a new reseller reaches the subtenants, and the reason
/// the caller gave (kept in the audit event).
struct UpdateTerms<'a> {
    needs: TenantRole,
    expected: Option<&'a Expected>,
    reseller: ResellerPolicy,
    reason: Option<&'a str>,
}

/// Read → change → conditional write, retried on a lost race; moves and
/// renames also record (and then do) the work on descendants.
async fn update(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    terms: UpdateTerms<'_>,
    edit: impl Fn(&Tenant) -> Result<(Tenant, Placement)>,
) -> Result<Updated> {
    let UpdateTerms {
        needs,
        expected,
        reseller,
        reason,
    } = terms;
    let mut completed_pending = false;
    let mut retry = Retry::new();
    while retry.next().await {
        // A purged id answers 410 only to those who could see it: the read
        // is the access check's.
        let (current, role) = access::tenant_with_role(store, caller, id, needs).await?;
        check(expected, &current)?;
        let (mut next, placement) = edit(&current)?;
        check_administered_fields(caller, role, &current, &next)?;
        let destination = resolve_move(store, caller, role, &current, &placement).await?;
        if matches!(destination, Move::To(_)) && !completed_pending {
            // Paths must be whole before a move is judged: finish what an
            // interrupted request left, then read again.
            completed_pending = true;
            if pending::complete_all(store).await? > 0 {
                continue;
            }
        }
        let mut parents = Vec::new();
        let mut ancestors = Vec::new();
        let mut work = Vec::new();
        if let Move::To(parent) = &destination {
            let parent = parent.as_deref();
            let height = subtree_height(store, &current).await?;
            check_depth(parent.map_or(0, |p| p.depth + 1) + height)?;
            next = next.placed(parent);
            ancestors = ancestors_of(store, parent).await?;
            if current.child_count > 0 {
                let old_root = current.path.first().unwrap_or(&current.id).clone();
                work.push(Pending::new(Work::MoveSubtree {
                    tenant_id: current.id.clone(),
                    old_root,
                    old_path: current.path_string(),
                }));
            }
        }
        if current.child_count > 0 && current.name != next.name {
            work.push(Pending::new(Work::RenameChildren {
                tenant_id: current.id.clone(),
            }));
        }
        let propagation = (current.subtenant_count > 0
            && (reseller.force || (current.reseller_id != next.reseller_id && !reseller.no_propagation)))
            .then(|| Work::PropagateReseller {
                tenant_id: current.id.clone(),
                old: current.reseller_id.clone(),
                new: next.reseller_id.clone(),
                force: reseller.force,
            });
        if same_fields(&current, &next) {
            let subtenants_updated = match &propagation {
                Some(Work::PropagateReseller { new, .. }) => {
                    subtenants::propagate_reseller(store, id, current.reseller_id.as_deref(), new.as_deref(), true)
                        .await?
                }
                _ => 0,
            };
            return Ok(Updated {
                tenant: current,
                subtenants_updated: Some(subtenants_updated),
            });
        }
        let propagation = propagation.map(Pending::new);
        work.extend(propagation.clone());
        if let Move::To(parent) = &destination {
            parents.extend(current.parent_id.iter().map(ParentDelta::Loses));
            parents.extend(parent.as_deref().map(ParentDelta::Gains));
        }
        let event = AuditEvent::of(Some(&current), &next).with_reason(reason);
        let write = TenantWrite {
            before: Some(&current),
            after: Some(&next),
            event: Some(&event),
            parents,
            unchanged_paths: ancestors.iter().collect(),
            pending: work.iter().map(Pending::item).collect::<Result<_>>()?,
            ..Default::default()
        };
        match store.commit(&write).await {
            Ok(()) => {
                // The change is made: from here on a failure leaves the rest
                // pending (the next move or the clean-up finishes it) and the
                // caller still hears of the change it made.
                for unit in work.iter().filter(|w| Some(*w) != propagation.as_ref()) {
                    pending::run_after_commit(store, unit).await;
                }
                let mut subtenants_updated = Some(0);
                if let Some(
                    unit @ Pending {
                        work: Work::PropagateReseller { old, new, force, .. },
                        ..
                    },
                ) = &propagation
                {
                    let propagated =
                        subtenants::propagate_reseller(store, id, old.as_deref(), new.as_deref(), *force).await;
                    subtenants_updated = match propagated {
                        Ok(n) => store.finish(unit).await.ok().map(|()| n),
                        Err(e) => {
                            tracing::warn!(error = %e, "reseller propagation left to the clean-up");
                            None
                        }
                    };
                }
                return Ok(Updated {
                    tenant: next,
                    subtenants_updated,
                });
            }
            Err(WriteFailure::NameTaken) => return Err(name_taken(&next.name)),
            Err(
                WriteFailure::VersionChanged
                | WriteFailure::HierarchyChanged
                | WriteFailure::Contended
                | WriteFailure::AlreadyExists
                | WriteFailure::IdempotencyKeyUsed
                | WriteFailure::ExtraFailed(_),
            ) => continue,
            Err(WriteFailure::Other(e)) => return Err(e),
        }
    }
    Err(contention::exhausted(format_args!("tenant '{id}'"), &retry))
}

/// How many levels hang below the tenant (0 for a leaf).
async fn subtree_height(store: &Store, tenant: &Tenant) -> Result<u32> {
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
pub async fn delete(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    expected: Option<&Expected>,
    mode: DeleteMode,
) -> Result<DeleteReport> {
    let mut current = access::tenant(store, caller, id, TenantRole::Admin).await?;
    check(expected, &current)?;
    if current.child_count > 0 && pending::complete_all(store).await? > 0 {
        current = read(store, id).await?;
        check(expected, &current)?;
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
                check(expected, &current)?;
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
/// subtenants it deleted.
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
        let write = TenantWrite {
            before: Some(&current),
            parents: current.parent_id.iter().map(ParentDelta::Loses).collect(),
            pending: vec![history.item()?],
            ..Default::default()
        };
        match store.commit(&write).await {
            Ok(()) => {
                pending::run_after_commit(store, &history).await;
                return Ok(subtenants);
            }
            Err(WriteFailure::Other(e)) => return Err(e),
            Err(_) => match store.get_tenant(&current.id).await? {
                None => return Ok(subtenants),
                Some(fresh) => {
                    check(expected, &fresh)?;
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

fn check(expected: Option<&Expected>, current: &Tenant) -> Result<()> {
    match expected {
        Some(e) if !e.allows(current.version) => Err(Error::PreconditionFailed {
            expected: match e {
                Expected::OneOf(v) => v.first().copied().unwrap_or_default(),
                Expected::Any => current.version,
            },
            current: current.version,
        }),
        _ => Ok(()),
    }
}

/// A change that changes nothing is not written: no new version, no write.
fn same_fields(current: &Tenant, next: &Tenant) -> bool {
    let unstamped = Tenant {
        version: current.version,
        updated_at: current.updated_at,
        updated_by: current.updated_by.clone(),
        ..next.clone()
    };
    unstamped == *current
}
