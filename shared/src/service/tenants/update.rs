//! Replace and patch (and the move or rename either may bring): read →
//! edit → one conditional write, retried on a lost race.

use serde_json::{Map, Value};

use super::hierarchy::{ancestors_of, resolve_move, subtree_height};
use super::name_taken;
use super::plan::{self, check_depth, same_fields};
use super::reseller::ResellerPolicy;
use crate::auth::{Caller, Permission, TenantRole};
use crate::domain::audit::AuditEvent;
use crate::domain::merge_patch;
use crate::domain::tenant::{InputMode, Placement, Stamp};
use crate::domain::{Environment, Tenant, TenantId, TenantInput};
use crate::error::{Code, Error, Result};
use crate::service::contention::{self, Retry};
use crate::service::{access, pending, require_expected_version, subtenants, Expected};
use crate::store::tenants::{WriteFailure, WrittenWith};
use crate::store::work::{Pending, Work};
use crate::store::Store;

#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn replace(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    input: TenantInput,
    expected: Option<&Expected>,
    reseller: ResellerPolicy,
    change: &Stamp,
) -> Result<Updated> {
    update(
        store,
        caller,
        id,
        UpdateTerms::operator(expected, reseller),
        |current| {
            let next = current.replaced(input.clone(), change)?;
            Ok((next, input.placement.clone()))
        },
    )
    .await
}

/// Applies a JSON Merge Patch to the tenant's writable fields, then
/// validates the result as a whole (every error listed).
#[tracing::instrument(skip_all, fields(tenant_id = %id))]
pub async fn patch(
    store: &Store,
    caller: &Caller,
    id: &TenantId,
    patch: &Map<String, Value>,
    expected: Option<&Expected>,
    reseller: ResellerPolicy,
    change: &Stamp,
) -> Result<Updated> {
    let patch = Value::Object(patch.clone());
    update(
        store,
        caller,
        id,
        UpdateTerms::operator(expected, reseller),
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

/// An updated tenant, and how many of its subtenants took its new reseller
/// (`None`: the propagation was cut off and the clean-up finishes it).
#[derive(Debug, Clone)]
pub struct Updated {
    pub tenant: Tenant,
    pub subtenants_updated: Option<u64>,
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
pub(super) struct UpdateTerms<'a> {
    pub(super) needs: TenantRole,
    pub(super) expected: Option<&'a Expected>,
    pub(super) reseller: ResellerPolicy,
    pub(super) reason: Option<&'a str>,
}

impl<'a> UpdateTerms<'a> {
    /// A profile edit (PUT or PATCH): an operator's, with the reseller flags.
    pub(super) fn operator(expected: Option<&'a Expected>, reseller: ResellerPolicy) -> Self {
        Self {
            needs: TenantRole::Operator,
            expected,
            reseller,
            reason: None,
        }
    }

    /// A lifecycle step (retire, restore): an admin's, with its reason kept
    /// in the audit event if given.
    pub(super) fn admin(expected: Option<&'a Expected>, reason: Option<&'a str>) -> Self {
        Self {
            needs: TenantRole::Admin,
            expected,
            reseller: ResellerPolicy::default(),
            reason,
        }
    }
}

/// Read → change → conditional write, retried on a lost race; moves and
/// renames also record (and then do) the work on descendants.
pub(super) async fn update(
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
        require_expected_version(expected, current.version)?;
        let (mut next, placement) = edit(&current)?;
        check_administered_fields(caller, role, &current, &next)?;
        let destination = resolve_move(store, caller, role, &current, &placement).await?;
        if !matches!(destination, Placement::Keep) && !completed_pending {
            // Paths must be whole before a move is judged: finish what an
            // interrupted request left, then read again (on the retry's next
            // attempt: what was read may be stale now).
            completed_pending = true;
            if pending::complete_all(store).await? > 0 {
                continue;
            }
        }
        let mut ancestors = Vec::new();
        if let Some(parent) = plan::new_parent(&destination) {
            let height = subtree_height(store, &current).await?;
            check_depth(plan::depth_under(parent) + height)?;
            next = next.placed(parent);
            ancestors = ancestors_of(store, parent).await?;
        }
        let plan = plan::update(&current, &next, &destination, reseller);
        if same_fields(&current, &next) {
            let subtenants_updated = match &plan.propagation {
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
        let mut work: Vec<Pending> = plan.descendant_work.into_iter().map(Pending::new).collect();
        let propagation = plan.propagation.map(Pending::new);
        work.extend(propagation.clone());
        let event = AuditEvent::of(Some(&current), &next).with_reason(reason);
        let with = WrittenWith {
            event: Some(&event),
            parents: plan.parents,
            unchanged_paths: ancestors.iter().collect(),
            pending: work.iter().map(Pending::item).collect::<Result<_>>()?,
            ..Default::default()
        };
        match store.update_tenant_if_version(&current, &next, with).await {
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
