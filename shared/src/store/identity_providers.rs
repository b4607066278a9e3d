//! Identity providers and their group mappings (under their tenant), and
//! login-domain claims (one guard item per domain, unique across tenants).
//! Every item carries the `createdAt` of its tenant, so a tenant id deleted
//! and created again inherits nothing.

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};

use super::attributes::{CREATED_AT, IDENTITY_PROVIDER_ID, INCARNATION, PROVIDER_INCARNATION, TENANT_ID, VERSION};
use super::keys;
use super::records::{self, key_item, string_attr, string_value, Item};
use super::sdk::{applied, classify, is_condition_failed, settle, transact, TransactError};
use super::tenants::TenantEntry;
use super::Store;
use crate::domain::identity_provider::{GroupMapping, IdentityProvider, IdpId};
use crate::domain::{DomainName, Tenant, TenantId, Timestamp};
use crate::error::{Error, Result};

/// Who claims a login domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainClaim {
    pub tenant_id: TenantId,
    pub identity_provider_id: IdpId,
    /// The `createdAt` of the claiming tenant.
    pub incarnation: String,
}

fn belongs(item: &Item, tenant: &Tenant) -> bool {
    string_attr(item, INCARNATION) == Some(tenant.created_at.to_string().as_str())
}

/// Whether a mapping item is one of this provider incarnation's.
fn maps(item: &Item, tenant: &Tenant, provider: &IdentityProvider) -> bool {
    belongs(item, tenant) && string_attr(item, PROVIDER_INCARNATION) == Some(provider.created_at.to_string().as_str())
}

impl Store {
    pub async fn get_identity_provider(&self, tenant: &Tenant, id: &IdpId) -> Result<Option<IdentityProvider>> {
        match self
            .get_consistent(&keys::identity_provider(&tenant.id, id.as_str()))
            .await?
        {
            Some(item) if belongs(&item, tenant) => records::identity_provider_from_item(item).map(Some),
            _ => Ok(None),
        }
    }

    /// A page of a tenant's identity providers, by id, after `after`: one
    /// `Query` (more only if leftovers of an earlier tenant of the id fill a
    /// page).
    pub async fn list_identity_providers(
        &self,
        tenant: &Tenant,
        limit: usize,
        after: Option<&IdpId>,
    ) -> Result<(Vec<IdentityProvider>, Option<IdpId>)> {
        let mut start = after.map(|id| key_item(&keys::identity_provider(&tenant.id, id.as_str())));
        let mut found = Vec::new();
        loop {
            let output = self
                .query_prefix(&keys::tenant(&tenant.id).pk, keys::IDP_SK_PREFIX)
                .set_exclusive_start_key(start)
                .limit((limit - found.len()) as i32 + 1)
                .send()
                .await
                .map_err(classify)?;
            for item in output.items.unwrap_or_default() {
                if !belongs(&item, tenant) {
                    continue;
                }
                if found.len() == limit {
                    let next = found.last().map(|p: &IdentityProvider| p.id.clone());
                    return Ok((found, next));
                }
                found.push(records::identity_provider_from_item(item)?);
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok((found, None)),
            }
        }
    }

    /// The actions that write (or, with `after` `None`, delete) an identity
    /// provider if it is still as read, and move its domain claims: each
    /// claim action is paired with its domain (a failed one is taken).
    pub fn identity_provider_actions(
        &self,
        tenant: &Tenant,
        before: Option<&IdentityProvider>,
        after: Option<&IdentityProvider>,
    ) -> Result<Vec<(TransactWriteItem, Option<DomainName>)>> {
        let mut actions = Vec::new();
        let the = after.or(before).expect("one side is set");
        match (before, after) {
            (_, Some(new)) => {
                let mut put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(records::identity_provider_item(new, tenant.created_at)?));
                put = match before {
                    None => put.condition_expression("attribute_not_exists(PK)"),
                    Some(old) => put
                        .condition_expression("#version = :expected")
                        .expression_attribute_names("#version", VERSION)
                        .expression_attribute_values(":expected", records::number_value(old.version)),
                };
                actions.push((
                    TransactWriteItem::builder()
                        .put(put.build().map_err(Error::internal)?)
                        .build(),
                    None,
                ));
            }
            (Some(old), None) => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&keys::identity_provider(&tenant.id, old.id.as_str()))))
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_values(":expected", records::number_value(old.version))
                    .build()
                    .map_err(Error::internal)?;
                actions.push((TransactWriteItem::builder().delete(delete).build(), None));
            }
            (None, None) => return Err(Error::internal("an identity provider write with neither side")),
        }
        let old_domains: &[DomainName] = before.map_or(&[], |b| &b.domains);
        let new_domains: &[DomainName] = after.map_or(&[], |a| &a.domains);
        let mine = "#tenantId = :tenant AND #idp = :idp";
        for domain in new_domains.iter().filter(|d| !old_domains.contains(d)) {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(records::domain_claim_item(domain, the, tenant.created_at)))
                .condition_expression(format!("attribute_not_exists(PK) OR ({mine})"))
                .expression_attribute_names("#tenantId", TENANT_ID)
                .expression_attribute_names("#idp", IDENTITY_PROVIDER_ID)
                .expression_attribute_values(":tenant", string_value(tenant.id.as_str()))
                .expression_attribute_values(":idp", string_value(the.id.as_str()))
                .build()
                .map_err(Error::internal)?;
            actions.push((TransactWriteItem::builder().put(put).build(), Some(domain.clone())));
        }
        for domain in old_domains.iter().filter(|d| !new_domains.contains(d)) {
            actions.push((self.release_claim(domain, &tenant.id, &the.id)?, None));
        }
        Ok(actions)
    }

    /// Deletes a domain claim if it is this provider's (a missing one is fine).
    fn release_claim(&self, domain: &DomainName, tenant_id: &TenantId, idp: &IdpId) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::domain_claim(domain.as_str()))))
            .condition_expression("attribute_not_exists(PK) OR (#tenantId = :tenant AND #idp = :idp)")
            .expression_attribute_names("#tenantId", TENANT_ID)
            .expression_attribute_names("#idp", IDENTITY_PROVIDER_ID)
            .expression_attribute_values(":tenant", string_value(tenant_id.as_str()))
            .expression_attribute_values(":idp", string_value(idp.as_str()))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// A check that the tenant is still this incarnation.
    pub fn tenant_unchanged_incarnation(&self, tenant: &Tenant) -> Result<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant(&tenant.id))))
            .condition_expression("#createdAt = :incarnation")
            .expression_attribute_names("#createdAt", CREATED_AT)
            .expression_attribute_values(":incarnation", string_value(tenant.created_at.to_string()))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Runs actions as one transaction; `Err(indexes)` of failed conditions.
    pub async fn transact_actions(
        &self,
        actions: Vec<TransactWriteItem>,
    ) -> Result<std::result::Result<(), Vec<usize>>> {
        match transact(&self.client, actions).await {
            Ok(()) => Ok(Ok(())),
            Err(TransactError::ConditionFailed(failed)) => Ok(Err(failed)),
            Err(TransactError::Contended) => Err(Error::Contended(
                "these items are being changed by other requests; retry".into(),
            )),
            Err(TransactError::Other(e)) => Err(e),
        }
    }

    /// Who claims a login domain (one `GetItem` on its guard).
    pub async fn domain_claim(&self, domain: &DomainName) -> Result<Option<DomainClaim>> {
        let Some(item) = self.get_consistent(&keys::domain_claim(domain.as_str())).await? else {
            return Ok(None);
        };
        let tenant_id = string_attr(&item, TENANT_ID).and_then(|t| TenantId::parse(t).ok());
        let idp = string_attr(&item, IDENTITY_PROVIDER_ID).and_then(|i| IdpId::parse(i).ok());
        let incarnation = string_attr(&item, INCARNATION).map(str::to_owned);
        let claim = match (tenant_id, idp, incarnation) {
            (Some(tenant_id), Some(identity_provider_id), Some(incarnation)) => DomainClaim {
                tenant_id,
                identity_provider_id,
                incarnation,
            },
            _ => return Err(Error::internal(format!("unreadable claim of domain '{domain}'"))),
        };
        Ok(Some(claim))
    }

    /// Releases a domain's claim if the tenant incarnation that made it is
    /// gone (its deletion's clean-up has not run yet); `true` if it did.
    pub async fn release_stale_claim(&self, domain: &DomainName) -> Result<bool> {
        let Some(claim) = self.domain_claim(domain).await? else {
            return Ok(true);
        };
        if let TenantEntry::Tenant(tenant) = self.tenant_entry(&claim.tenant_id).await? {
            if tenant.created_at.to_string() == claim.incarnation {
                return Ok(false);
            }
        }
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::domain_claim(domain.as_str()))))
            .condition_expression("#incarnation = :incarnation AND #tenantId = :tenant")
            .expression_attribute_names("#incarnation", INCARNATION)
            .expression_attribute_names("#tenantId", TENANT_ID)
            .expression_attribute_values(":incarnation", string_value(claim.incarnation))
            .expression_attribute_values(":tenant", string_value(claim.tenant_id.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(true),
            Err(e) => Err(classify(e)),
        }
    }

    /// Releases every domain claim of a tenant's identity providers (after the
    /// tenant or provider is gone); returns how many it released.
    pub async fn release_claims_of(
        &self,
        tenant_id: &TenantId,
        incarnation: Timestamp,
        providers: &[IdentityProvider],
    ) -> Result<usize> {
        let mut released = 0;
        for idp in providers {
            for domain in &idp.domains {
                let result = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&keys::domain_claim(domain.as_str()))))
                    .condition_expression("#tenantId = :tenant AND #idp = :idp AND #incarnation = :incarnation")
                    .expression_attribute_names("#tenantId", TENANT_ID)
                    .expression_attribute_names("#idp", IDENTITY_PROVIDER_ID)
                    .expression_attribute_names("#incarnation", INCARNATION)
                    .expression_attribute_values(":tenant", string_value(tenant_id.as_str()))
                    .expression_attribute_values(":idp", string_value(idp.id.as_str()))
                    .expression_attribute_values(":incarnation", string_value(incarnation.to_string()))
                    .send()
                    .await;
                match result {
                    Ok(_) => released += 1,
                    Err(e) if is_condition_failed(&e) => {}
                    Err(e) => return Err(classify(e)),
                }
            }
        }
        Ok(released)
    }

    pub async fn get_group_mapping(
        &self,
        tenant: &Tenant,
        provider: &IdentityProvider,
        from: &str,
    ) -> Result<Option<GroupMapping>> {
        match self
            .get_consistent(&keys::group_mapping(&tenant.id, provider.id.as_str(), from))
            .await?
        {
            Some(item) if maps(&item, tenant, provider) => records::group_mapping_from_item(item).map(Some),
            _ => Ok(None),
        }
    }

    /// Writes a mapping if its provider is still the one read (`Ok(false)`:
    /// it was deleted or replaced by a new one of the same id).
    pub async fn put_group_mapping(
        &self,
        tenant: &Tenant,
        provider: &IdentityProvider,
        mapping: &GroupMapping,
    ) -> Result<bool> {
        let put = self.put_action(records::group_mapping_item(mapping, tenant.created_at, provider)?)?;
        let provider_check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::identity_provider(
                &tenant.id,
                provider.id.as_str(),
            ))))
            .condition_expression("#incarnation = :incarnation AND #createdAt = :created")
            .expression_attribute_names("#incarnation", INCARNATION)
            .expression_attribute_names("#createdAt", CREATED_AT)
            .expression_attribute_values(":incarnation", string_value(tenant.created_at.to_string()))
            .expression_attribute_values(":created", string_value(provider.created_at.to_string()))
            .build()
            .map_err(Error::internal)?;
        let actions = vec![
            put,
            TransactWriteItem::builder().condition_check(provider_check).build(),
        ];
        match self.transact_actions(actions).await {
            Ok(written) => Ok(written.is_ok()),
            // Its answer lost, the write may have committed: the mapping as
            // written tells.
            Err(e) => {
                let landed = async {
                    Ok(self.get_group_mapping(tenant, provider, &mapping.from).await?.as_ref() == Some(mapping))
                };
                settle(e, "group mapping", landed).await.map(|()| true)
            }
        }
    }

    /// Whether the table shows a provider write done: `written` stored with
    /// its version and this change's stamp (what settles a lost answer).
    pub async fn identity_provider_landed(&self, tenant: &Tenant, written: &IdentityProvider) -> Result<bool> {
        Ok(self
            .get_identity_provider(tenant, &written.id)
            .await?
            .is_some_and(|stored| stored.version == written.version && stored.updated_at == written.updated_at))
    }

    /// Deletes a mapping; `false` if there was none.
    pub async fn delete_group_mapping(&self, tenant: &Tenant, provider: &IdentityProvider, from: &str) -> Result<bool> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::group_mapping(
                &tenant.id,
                provider.id.as_str(),
                from,
            ))))
            .condition_expression("#incarnation = :incarnation AND #provider = :provider")
            .expression_attribute_names("#incarnation", INCARNATION)
            .expression_attribute_names("#provider", PROVIDER_INCARNATION)
            .expression_attribute_values(":incarnation", string_value(tenant.created_at.to_string()))
            .expression_attribute_values(":provider", string_value(provider.created_at.to_string()))
            .send()
            .await;
        match applied(result) {
            // Its answer lost: no mapping left means it went.
            Err(e) => {
                let landed = async { Ok(self.get_group_mapping(tenant, provider, from).await?.is_none()) };
                settle(e, "group mapping removal", landed).await.map(|()| true)
            }
            answered => answered,
        }
    }

    /// A page of a provider's mappings, by group id, after `after`: one
    /// `Query` (more only if leftovers of a deleted provider fill a page).
    pub async fn list_group_mappings(
        &self,
        tenant: &Tenant,
        provider: &IdentityProvider,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<GroupMapping>, Option<String>)> {
        let mut start = after.map(|from| key_item(&keys::group_mapping(&tenant.id, provider.id.as_str(), from)));
        let mut mappings = Vec::new();
        loop {
            let output = self
                .query_prefix(
                    &keys::tenant(&tenant.id).pk,
                    &keys::group_mappings_of(provider.id.as_str()),
                )
                .set_exclusive_start_key(start)
                .limit((limit - mappings.len()) as i32 + 1)
                .send()
                .await
                .map_err(classify)?;
            for item in output.items.unwrap_or_default() {
                if !maps(&item, tenant, provider) {
                    continue;
                }
                if mappings.len() == limit {
                    let next = mappings.last().map(|m: &GroupMapping| m.from.clone());
                    return Ok((mappings, next));
                }
                mappings.push(records::group_mapping_from_item(item)?);
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok((mappings, None)),
            }
        }
    }

    /// Deletes the mappings one incarnation of a provider left; returns how many.
    pub async fn delete_group_mappings(
        &self,
        tenant_id: &TenantId,
        provider: &IdpId,
        provider_created_at: Timestamp,
    ) -> Result<usize> {
        let pk = keys::tenant(tenant_id).pk;
        let prefix = keys::group_mappings_of(provider.as_str());
        self.delete_prefix_where(&pk, &prefix, Some((PROVIDER_INCARNATION, provider_created_at)))
            .await
    }

    /// Deletes every identity provider and mapping a tenant incarnation left,
    /// with their domain claims (after the tenant itself is gone).
    pub async fn delete_identity_providers_of(&self, tenant_id: &TenantId, incarnation: Timestamp) -> Result<usize> {
        let pk = keys::tenant(tenant_id).pk;
        let mut providers = Vec::new();
        for item in self.query_all(self.query_prefix(&pk, keys::IDP_SK_PREFIX)).await? {
            if string_attr(&item, INCARNATION) == Some(incarnation.to_string().as_str()) {
                providers.push(records::identity_provider_from_item(item)?);
            }
        }
        let mut deleted = self.release_claims_of(tenant_id, incarnation, &providers).await?;
        deleted += self
            .delete_prefix(&pk, keys::IDP_GROUP_SK_PREFIX, Some(incarnation))
            .await?;
        deleted += self.delete_prefix(&pk, keys::IDP_SK_PREFIX, Some(incarnation)).await?;
        Ok(deleted)
    }
}
