//! Identity provider use cases: authorise and configure a tenant's providers
//! (their login domains unique across tenants), map their groups, and find
//! the provider of a login domain (home-realm discovery).
//!
//! Reads need a viewer role on the tenant; every write needs admin, since a
//! provider decides who can sign in to the tenant.

use super::contention::{self, Retry};
use super::{access, pending, require_expected_version, Expected};
use crate::auth::{Caller, TenantRole};
use crate::domain::audit::AuditEvent;
use crate::domain::identity_provider::{GroupMapping, IdentityProvider, IdpId, IdpInput};
use crate::domain::tenant::Stamp;
use crate::domain::{DomainName, Tenant, TenantId};
use crate::error::{Code, Error, Result};
use crate::store::sdk::settle;
use crate::store::tenants::{WriteFailure, WrittenWith};
use crate::store::work::{Pending, Work};
use crate::store::Store;

/// Most identity providers one tenant may authorise: each is a facet of the
/// tenant, and every provider write must fit one transaction.
pub const MAX_PER_TENANT: usize = 10;

fn not_found(tenant_id: &TenantId, id: &IdpId) -> Error {
    Error::NotFound {
        kind: "identity provider",
        id: format!("{id}' of tenant '{tenant_id}"),
    }
}

fn contended(tenant_id: &TenantId, retry: &Retry) -> Error {
    contention::exhausted(format_args!("the identity providers of '{tenant_id}'"), retry)
}

fn domain_taken(domain: &DomainName) -> Error {
    Error::Conflict(
        Code::DomainClaimed,
        format!("the login domain '{domain}' is already claimed by another identity provider"),
    )
}

/// The `If-Match` check of a provider write, which may find no provider.
fn require_expected_provider(expected: Option<&Expected>, current: Option<&IdentityProvider>) -> Result<()> {
    match (expected, current) {
        // `If-Match` (even `*`) asks for an existing provider (RFC 9110 13.1.1).
        (Some(e), None) => Err(Error::PreconditionFailed {
            expected: match e {
                Expected::OneOf(versions) => versions.first().copied().unwrap_or_default(),
                Expected::Any => 0,
            },
            current: 0,
        }),
        (_, Some(current)) => require_expected_version(expected, current.version),
        (None, None) => Ok(()),
    }
}

/// What a PUT did.
#[derive(Debug, Clone)]
pub struct Saved {
    pub provider: IdentityProvider,
    pub created: bool,
}

/// How a provider write went: done, lost a race (read again), or found
/// these domains claimed.
enum Outcome {
    Done,
    Raced,
    Claimed(Vec<DomainName>),
}

/// Writes `actions` (a provider and its domain claims) with, when the set
/// of providers changes, the tenant's new `identityProviderIds` and its audit event.
async fn write(
    store: &Store,
    tenant: &Tenant,
    next_tenant: Option<&Tenant>,
    actions: Vec<(aws_sdk_dynamodb::types::TransactWriteItem, Option<DomainName>)>,
    pending: Option<&Pending>,
) -> Result<Outcome> {
    let (actions, domains): (Vec<_>, Vec<_>) = actions.into_iter().unzip();
    let failed = match next_tenant {
        Some(next) => {
            let event = AuditEvent::of(Some(tenant), next);
            let with = WrittenWith {
                event: Some(&event),
                pending: pending.map(Pending::item).transpose()?.into_iter().collect(),
                extra: actions,
                ..Default::default()
            };
            match store.update_tenant_if_version(tenant, next, with).await {
                Ok(()) => return Ok(Outcome::Done),
                Err(WriteFailure::ExtraFailed(failed)) => failed,
                Err(WriteFailure::Other(e)) => return Err(e),
                Err(_) => return Ok(Outcome::Raced),
            }
        }
        None => {
            let mut all = vec![store.tenant_unchanged_incarnation(tenant)?];
            all.extend(actions);
            match store.transact_actions(all).await? {
                Ok(()) => return Ok(Outcome::Done),
                Err(failed) if failed.contains(&0) => return Ok(Outcome::Raced),
                Err(failed) => failed.into_iter().map(|i| i - 1).collect(),
            }
        }
    };
    let claimed: Vec<DomainName> = failed
        .iter()
        .filter_map(|i| domains.get(*i).cloned().flatten())
        .collect();
    Ok(if claimed.is_empty() {
        Outcome::Raced
    } else {
        Outcome::Claimed(claimed)
    })
}

/// Authorises and configures (create or replace) a tenant's identity provider.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, identity_provider_id = %id))]
pub async fn put(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    id: &IdpId,
    input: IdpInput,
    expected: Option<&Expected>,
    change: &Stamp,
) -> Result<Saved> {
    let mut retry = Retry::new();
    while retry.next().await {
        let tenant = access::tenant(store, caller, tenant_id, TenantRole::Admin).await?;
        tenant.ensure_changeable()?;
        let current = store.get_identity_provider(&tenant, id).await?;
        require_expected_provider(expected, current.as_ref())?;
        let next = IdentityProvider::from_input(id.clone(), tenant_id.clone(), input.clone(), current.as_ref(), change);
        if let Some(current) = current.as_ref().filter(|c| !c.differs(&next)) {
            return Ok(Saved {
                provider: current.clone(),
                created: false,
            });
        }
        let next_tenant = match current {
            Some(_) => None,
            None if tenant.identity_provider_ids.len() >= MAX_PER_TENANT => {
                return Err(Error::Conflict(
                    Code::LimitReached,
                    format!(
                        "tenant '{tenant_id}' already has {MAX_PER_TENANT} identity providers, the most it may have"
                    ),
                ))
            }
            None => Some(tenant.with_identity_provider(id.as_str(), true, change)?),
        };
        let actions = store.identity_provider_actions(&tenant, current.as_ref(), Some(&next))?;
        let written = match write(store, &tenant, next_tenant.as_ref(), actions, None).await {
            // Its answer lost, the write may have committed: the provider as
            // written tells (a new one's tenant write has settled already).
            Err(e) => settle(e, "identity provider", store.identity_provider_landed(&tenant, &next))
                .await
                .map(|()| Outcome::Done)?,
            Ok(outcome) => outcome,
        };
        match written {
            Outcome::Done => {
                return Ok(Saved {
                    provider: next,
                    created: current.is_none(),
                })
            }
            Outcome::Raced => {}
            Outcome::Claimed(domains) => {
                // A claim left by a deleted tenant whose clean-up has not run
                // yet is released; a live one is a conflict.
                for domain in &domains {
                    if !store.release_stale_claim(domain).await? {
                        return Err(domain_taken(domain));
                    }
                }
            }
        }
    }
    Err(contended(tenant_id, &retry))
}

#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, identity_provider_id = %id))]
pub async fn get(store: &Store, caller: &Caller, tenant_id: &TenantId, id: &IdpId) -> Result<IdentityProvider> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    provider_of(store, &tenant, id).await
}

async fn provider_of(store: &Store, tenant: &Tenant, id: &IdpId) -> Result<IdentityProvider> {
    store
        .get_identity_provider(tenant, id)
        .await?
        .ok_or_else(|| not_found(&tenant.id, id))
}

/// A page of a tenant's identity providers, by id, after `after`.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id))]
pub async fn list(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    limit: usize,
    after: Option<&IdpId>,
) -> Result<(Vec<IdentityProvider>, Option<IdpId>)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    store.list_identity_providers(&tenant, limit, after).await
}

/// Unauthorises a provider: it, its domain claims and (right after, as
/// pending work) its group mappings go.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, identity_provider_id = %id))]
pub async fn delete(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    id: &IdpId,
    expected: Option<&Expected>,
    change: &Stamp,
) -> Result<()> {
    let mut retry = Retry::new();
    while retry.next().await {
        let tenant = access::tenant(store, caller, tenant_id, TenantRole::Admin).await?;
        tenant.ensure_changeable()?;
        let current = provider_of(store, &tenant, id).await?;
        require_expected_provider(expected, Some(&current))?;
        let next_tenant = tenant.with_identity_provider(id.as_str(), false, change)?;
        let mappings = Pending::new(Work::DeleteGroupMappings {
            tenant_id: tenant_id.clone(),
            identity_provider_id: id.clone(),
            provider_created_at: current.created_at,
        });
        let actions = store.identity_provider_actions(&tenant, Some(&current), None)?;
        if let Outcome::Done = write(store, &tenant, Some(&next_tenant), actions, Some(&mappings)).await? {
            // Committed: a failure now leaves the mappings to the clean-up,
            // not a 503 for a delete that was made.
            pending::run_after_commit(store, &mappings).await;
            return Ok(());
        }
    }
    Err(contended(tenant_id, &retry))
}

/// Maps a provider's group to a platform group (add or replace); `true`
/// when the mapping is new.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, identity_provider_id = %id))]
pub async fn put_mapping(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    id: &IdpId,
    from: String,
    to: String,
    change: &Stamp,
) -> Result<(GroupMapping, bool)> {
    let mut retry = Retry::new();
    while retry.next().await {
        let tenant = access::tenant(store, caller, tenant_id, TenantRole::Admin).await?;
        tenant.ensure_changeable()?;
        let provider = provider_of(store, &tenant, id).await?;
        let existing = store.get_group_mapping(&tenant, &provider, &from).await?;
        if let Some(same) = existing.as_ref().filter(|m| m.to == to) {
            return Ok((same.clone(), false));
        }
        let mapping = GroupMapping {
            tenant_id: tenant_id.clone(),
            identity_provider_id: id.clone(),
            from: from.clone(),
            to: to.clone(),
            updated_at: change.at,
            updated_by: change.actor.clone(),
        };
        if store.put_group_mapping(&tenant, &provider, &mapping).await? {
            return Ok((mapping, existing.is_none()));
        }
    }
    Err(contended(tenant_id, &retry))
}

#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, identity_provider_id = %id))]
pub async fn get_mapping(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    id: &IdpId,
    from: &str,
) -> Result<GroupMapping> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    let provider = provider_of(store, &tenant, id).await?;
    store
        .get_group_mapping(&tenant, &provider, from)
        .await?
        .ok_or_else(|| mapping_not_found(id, from))
}

fn mapping_not_found(id: &IdpId, from: &str) -> Error {
    Error::NotFound {
        kind: "group mapping",
        id: format!("{from}' of identity provider '{id}"),
    }
}

#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, identity_provider_id = %id))]
pub async fn delete_mapping(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    id: &IdpId,
    from: &str,
) -> Result<()> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Admin).await?;
    tenant.ensure_changeable()?;
    let provider = provider_of(store, &tenant, id).await?;
    if store.delete_group_mapping(&tenant, &provider, from).await? {
        Ok(())
    } else {
        Err(mapping_not_found(id, from))
    }
}

/// A page of a provider's group mappings, by group id.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, identity_provider_id = %id))]
pub async fn list_mappings(
    store: &Store,
    caller: &Caller,
    tenant_id: &TenantId,
    id: &IdpId,
    limit: usize,
    after: Option<&str>,
) -> Result<(Vec<GroupMapping>, Option<String>)> {
    let tenant = access::tenant(store, caller, tenant_id, TenantRole::Viewer).await?;
    let provider = provider_of(store, &tenant, id).await?;
    store.list_group_mappings(&tenant, &provider, limit, after).await
}

/// The owner of a login domain: its tenant and identity provider. A domain
/// of a tenant the caller cannot see answers 404, like the tenant would.
#[tracing::instrument(skip_all)]
pub async fn by_domain(store: &Store, caller: &Caller, domain: &DomainName) -> Result<(Tenant, IdentityProvider)> {
    let unclaimed = || Error::NotFound {
        kind: "login domain",
        id: domain.to_string(),
    };
    let claim = store.domain_claim(domain).await?.ok_or_else(unclaimed)?;
    let tenant = match access::tenant(store, caller, &claim.tenant_id, TenantRole::Viewer).await {
        Ok(tenant) if tenant.created_at.to_string() == claim.incarnation => tenant,
        Ok(_) | Err(Error::NotFound { .. } | Error::Gone { .. }) => return Err(unclaimed()),
        Err(e) => return Err(e),
    };
    let provider = store
        .get_identity_provider(&tenant, &claim.identity_provider_id)
        .await?
        .ok_or_else(unclaimed)?;
    Ok((tenant, provider))
}
