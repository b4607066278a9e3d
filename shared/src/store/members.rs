//! Memberships: under their tenant (members of a tenant) and in their user's
//! GSI1 partition (tenants of a user). Each carries the `createdAt` of the
//! tenant it belongs to, so a tenant id deleted and created again does not
//! inherit the old members.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};

use super::attributes::{CREATED_AT, INCARNATION};
use super::entity::{DecodeError, EntityType, Record};
use super::keys;
use super::records::{self, key_item, member_from_item, string_attr, string_value, Item};
use super::sdk::{applied, classify, settle, transact, TransactError};
use super::table::{GSI1, PK};
use super::Store;
use crate::auth::TenantRole;
use crate::domain::member::Member;
use crate::domain::{Status, Tenant, TenantId, Timestamp, UserId};
use crate::error::{Error, Result};

/// What a caller is on a tenant, read in one `BatchGetItem`: its
/// memberships on the tenant's path (of the incarnations on it now) and
/// which proper ancestors are not active. What that makes the caller is
/// `service::access`'s to say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessView {
    /// Each membership: where on the path it is (0 = root) and its role.
    pub memberships: Vec<(usize, TenantRole)>,
    /// Where on the path the proper ancestors that are not active are
    /// (inactive, retired, provisioning, or not found).
    pub blocked: Vec<usize>,
}

fn belongs(item: &Item, incarnation: &str) -> bool {
    string_attr(item, INCARNATION) == Some(incarnation)
}

impl Store {
    pub async fn get_member(&self, tenant: &Tenant, user: &UserId) -> Result<Option<Member>> {
        let item = self.get_consistent(&keys::member(&tenant.id, user)).await?;
        match item {
            Some(item) if belongs(&item, &tenant.created_at.to_string()) => member_from_item(item).map(Some),
            _ => Ok(None),
        }
    }

    /// Adds a membership where the user has none (`Ok(false)`: it has one
    /// now), if the tenant (this incarnation) still exists.
    pub async fn create_member(&self, tenant: &Tenant, member: &Member) -> Result<bool> {
        self.put_member(tenant, member, "attribute_not_exists(PK)").await
    }

    /// Replaces an existing membership (`Ok(false)`: it is gone now), if
    /// the tenant (this incarnation) still exists.
    pub async fn replace_member(&self, tenant: &Tenant, member: &Member) -> Result<bool> {
        self.put_member(tenant, member, "attribute_exists(PK)").await
    }

    /// Writes a membership on `condition`, if the tenant (this incarnation)
    /// still exists. `Ok(false)`: the condition did not hold.
    async fn put_member(&self, tenant: &Tenant, member: &Member, condition: &str) -> Result<bool> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(records::member_item(member, tenant.created_at)?))
            .condition_expression(condition)
            .build()
            .map_err(Error::internal)?;
        let tenant_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant(&tenant.id))))
            .condition_expression("#createdAt = :incarnation")
            .expression_attribute_names("#createdAt", CREATED_AT)
            .expression_attribute_values(":incarnation", string_value(tenant.created_at.to_string()))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().condition_check(tenant_exists).build(),
        ];
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(TransactError::ConditionFailed(failed)) if failed == [0] => Ok(false),
            Err(TransactError::ConditionFailed(_)) => Err(Error::NotFound {
                kind: "tenant",
                id: tenant.id.to_string(),
            }),
            // Its answer lost, the write may have committed: the membership
            // as written tells.
            Err(TransactError::Other(e)) => {
                let landed = async { Ok(self.get_member(tenant, &member.user_id).await?.as_ref() == Some(member)) };
                settle(e, "membership", landed).await.map(|()| true)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Removes a membership; `false` if there was none. A lost answer is
    /// settled by reading the membership back: none left means it went.
    pub async fn delete_member(&self, tenant: &Tenant, user: &UserId) -> Result<bool> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::member(&tenant.id, user))))
            .condition_expression("#incarnation = :incarnation")
            .expression_attribute_names("#incarnation", INCARNATION)
            .expression_attribute_values(":incarnation", string_value(tenant.created_at.to_string()))
            .send()
            .await;
        match applied(result) {
            Err(e) => {
                let landed = async { Ok(self.get_member(tenant, user).await?.is_none()) };
                settle(e, "membership removal", landed).await.map(|()| true)
            }
            answered => answered,
        }
    }

    /// The direct members of a tenant, by user id, `limit` at a time after `after`.
    pub async fn list_members(
        &self,
        tenant: &Tenant,
        limit: usize,
        after: Option<&UserId>,
    ) -> Result<(Vec<Member>, Option<UserId>)> {
        let start = after.map(|user| key_item(&keys::member(&tenant.id, user)));
        let output = self
            .query_prefix(&keys::tenant(&tenant.id).pk, keys::MEMBER_SK_PREFIX)
            .set_exclusive_start_key(start)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(classify)?;
        let incarnation = tenant.created_at.to_string();
        let items: Vec<Item> = output.items.unwrap_or_default();
        let more = items.len() > limit;
        let mut members = Vec::new();
        for item in items.into_iter().take(limit) {
            if belongs(&item, &incarnation) {
                members.push(member_from_item(item)?);
            }
        }
        let next = if more {
            members.last().map(|m| m.user_id.clone())
        } else {
            None
        };
        Ok((members, next))
    }

    /// A user's memberships (tenant id and role), by tenant id, `limit` at a
    /// time after `after`: one `Query` on GSI1.
    pub async fn memberships_of(
        &self,
        user: &UserId,
        limit: Option<usize>,
        after: Option<&TenantId>,
    ) -> Result<(Vec<(TenantId, TenantRole)>, Option<TenantId>)> {
        let start = after.map(|tenant_id| {
            let mut key = key_item(&keys::member(tenant_id, user));
            key.insert(GSI1.pk.into(), string_value(keys::memberships_of(user)));
            key.insert(GSI1.sk.into(), string_value(keys::membership_sort(tenant_id)));
            key
        });
        let output = self
            .query_partition(Some(&GSI1), keys::memberships_of(user))
            .set_exclusive_start_key(start)
            .set_limit(limit.map(|l| l as i32))
            .send()
            .await
            .map_err(classify)?;
        let memberships = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| member_from_item(item).map(|m| (m.tenant_id, m.role)))
            .collect::<Result<Vec<_>>>()?;
        let next = output
            .last_evaluated_key
            .as_ref()
            .and_then(|k| string_attr(k, PK))
            .and_then(keys::tenant_id_of)
            .and_then(|id| TenantId::parse(id).ok());
        Ok((memberships, next))
    }

    /// The caller's standing on `tenant`: memberships on its path and the
    /// statuses of its ancestors, in one strongly consistent `BatchGetItem`.
    pub async fn access_view(&self, tenant: &Tenant, user: &UserId) -> Result<AccessView> {
        let ancestors = &tenant.path[..tenant.path.len().saturating_sub(1)];
        let mut wanted: Vec<Item> = tenant.path.iter().map(|id| key_item(&keys::member(id, user))).collect();
        wanted.extend(ancestors.iter().map(|id| key_item(&keys::tenant(id))));
        let items = self.batch_get(wanted, true).await?;

        let mut incarnations: HashMap<String, String> =
            HashMap::from([(tenant.id.to_string(), tenant.created_at.to_string())]);
        let mut active = std::collections::HashSet::new();
        let mut members = Vec::new();
        for item in &items {
            match Record::decode(item) {
                Ok(Record::Tenant(ancestor)) => {
                    if ancestor.status == Status::Active {
                        active.insert(ancestor.id.clone());
                    }
                    incarnations.insert(ancestor.id.to_string(), ancestor.created_at.to_string());
                }
                Ok(Record::Member { member, .. }) => members.push((member, item)),
                Err(e @ DecodeError::Unreadable(EntityType::Tenant, _)) => return Err(e.into_error()),
                _ => {}
            }
        }
        let memberships = members
            .into_iter()
            .filter(|(member, item)| {
                incarnations
                    .get(member.tenant_id.as_str())
                    .is_some_and(|inc| belongs(item, inc))
            })
            .filter_map(|(m, _)| Some((tenant.path.iter().position(|id| *id == m.tenant_id)?, m.role)))
            .collect();
        Ok(AccessView {
            memberships,
            blocked: (0..ancestors.len())
                .filter(|i| !active.contains(&ancestors[*i]))
                .collect(),
        })
    }

    /// Every membership of a user with the `createdAt` of the tenant
    /// incarnation it was given on (paged internally; one `Query` on GSI1
    /// per page): whoever asks must match it against the tenant there now.
    pub async fn all_memberships_with_incarnations_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<(TenantId, TenantRole, Option<Timestamp>)>> {
        let request = self.query_partition(Some(&GSI1), keys::memberships_of(user));
        let mut all = Vec::new();
        for item in self.query_all(request).await? {
            let incarnation = string_attr(&item, INCARNATION).and_then(Timestamp::parse);
            let member = member_from_item(item)?;
            all.push((member.tenant_id, member.role, incarnation));
        }
        Ok(all)
    }
}
