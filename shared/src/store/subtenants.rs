//! Subtenants: under their tenant (by creation: ids are UUID v7), by name
//! (GSI1) and by code (GSI2) in their tenant's partition, by creation among
//! all subtenants (GSI4). A code guard keeps codes unique per tenant; the
//! tenant's `subtenantCount` (changed in the same transaction as every
//! create and delete) lets a tenant delete refuse to leave orphans.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::attributes::{CREATED_AT, RESELLER_ID, STATUS, SUBTENANT_COUNT, SUBTENANT_ID, VERSION};
use super::keys;
use super::records::{self, key_item, number_value, string_attr, string_value, subtenant_from_item, Item};
use super::sdk::{classify, is_condition_failed, settle, transact, TransactError};
use super::table::{GSI1, GSI2, GSI4, PK, SK};
use super::tenants::WriteFailure;
use super::versioned_write::VersionedWrite;
use super::Store;
use crate::domain::subtenant::Subtenant;
use crate::domain::{Status, SubtenantCode, Tenant, TenantId};
use crate::error::{Error, Result};

/// How a subtenant list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtenantOrder {
    Created,
    Name,
    Code,
}

/// Where a subtenant list stands: the last key it read (sealed in cursors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtenantPosition(BTreeMap<String, String>);

impl SubtenantPosition {
    fn from_key(key: &Item) -> Self {
        Self(
            key.iter()
                .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone())))
                .collect(),
        )
    }

    fn to_key(&self) -> Item {
        self.0
            .iter()
            .map(|(k, v)| (k.clone(), AttributeValue::S(v.clone())))
            .collect()
    }
}

/// A page of subtenants.
pub type SubtenantPage = (Vec<Subtenant>, Option<SubtenantPosition>);

/// Most subtenants one transaction of a forced delete removes (two actions
/// each, plus the tenant's count: within DynamoDB's 100).
const DELETE_BATCH: usize = 45;

impl Store {
    /// The id of the subtenant holding a code (one `GetItem` on its guard).
    pub async fn subtenant_id_by_code(&self, tenant_id: &TenantId, code: &SubtenantCode) -> Result<Option<String>> {
        let guard = self.get_consistent(&keys::subtenant_code(tenant_id, code)).await?;
        Ok(guard
            .as_ref()
            .and_then(|g| string_attr(g, SUBTENANT_ID))
            .map(str::to_owned))
    }

    pub async fn get_subtenant(&self, tenant_id: &TenantId, id: &str) -> Result<Option<Subtenant>> {
        match self.get_consistent(&keys::subtenant(tenant_id, id)).await? {
            Some(item) => subtenant_from_item(item).map(Some),
            None => Ok(None),
        }
    }

    /// Creates a subtenant if its code is free in its tenant
    /// ([`WriteFailure::NameTaken`] if not), counting it on the tenant, which
    /// must still be this incarnation and not retired
    /// ([`WriteFailure::HierarchyChanged`] if not).
    pub async fn create_subtenant(&self, tenant: &Tenant, new: &Subtenant) -> Result<(), WriteFailure> {
        self.write_subtenant(tenant, VersionedWrite::Create(new)).await
    }

    /// Replaces `current` by `next` if the stored version is still
    /// `current`'s ([`WriteFailure::VersionChanged`] if not), moving its code
    /// guard when the code changes ([`WriteFailure::NameTaken`]).
    pub async fn update_subtenant_if_version(
        &self,
        tenant: &Tenant,
        current: &Subtenant,
        next: &Subtenant,
    ) -> Result<(), WriteFailure> {
        self.write_subtenant(tenant, VersionedWrite::Update { current, next })
            .await
    }

    /// Deletes a subtenant and its code guard if the stored version is still
    /// `current`'s ([`WriteFailure::VersionChanged`] if not), counting it off
    /// the tenant, which must still be this incarnation
    /// ([`WriteFailure::HierarchyChanged`] if not).
    pub async fn delete_subtenant_if_version(&self, tenant: &Tenant, current: &Subtenant) -> Result<(), WriteFailure> {
        self.write_subtenant(tenant, VersionedWrite::Delete(current)).await
    }

    /// Creates, replaces or deletes a subtenant in one transaction with its
    /// code guard(s) and, on create and delete, its tenant's count. The
    /// tenant must still be this incarnation (and, for a create, not retired).
    async fn write_subtenant(&self, tenant: &Tenant, write: VersionedWrite<'_, Subtenant>) -> Result<(), WriteFailure> {
        let mut items = Vec::new();
        let (subtenant_index, mut guard_indexes, mut tenant_index) = (0, Vec::new(), None);
        match write {
            VersionedWrite::Create(new) => {
                items.push(self.put_new(records::subtenant_item(new)?)?);
                guard_indexes.push(items.len());
                items.push(self.put_new(records::subtenant_code_item(&tenant.id, &new.code, &new.id))?);
                tenant_index = Some(items.len());
                items.push(self.count_subtenants_by(tenant, 1)?);
            }
            VersionedWrite::Update {
                current: old,
                next: new,
            } => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(records::subtenant_item(new)?))
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_values(":expected", number_value(old.version))
                    .build()
                    .map_err(Error::internal)?;
                items.push(TransactWriteItem::builder().put(put).build());
                if old.code != new.code {
                    items.push(self.delete_code_guard(&tenant.id, &old.code, &old.id)?);
                    guard_indexes.push(items.len());
                    items.push(self.put_new(records::subtenant_code_item(&tenant.id, &new.code, &new.id))?);
                }
            }
            VersionedWrite::Delete(old) => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&keys::subtenant(&tenant.id, &old.id))))
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_values(":expected", number_value(old.version))
                    .build()
                    .map_err(Error::internal)?;
                items.push(TransactWriteItem::builder().delete(delete).build());
                items.push(self.delete_code_guard(&tenant.id, &old.code, &old.id)?);
                tenant_index = Some(items.len());
                items.push(self.count_subtenants_by(tenant, -1)?);
            }
        }
        match transact(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::ConditionFailed(failed)) => Err(match () {
                _ if failed.iter().any(|i| Some(*i) == tenant_index) => WriteFailure::HierarchyChanged,
                _ if failed.contains(&subtenant_index) => WriteFailure::VersionChanged,
                _ if failed.iter().any(|i| guard_indexes.contains(i)) => WriteFailure::NameTaken,
                _ => WriteFailure::Other(Error::internal(format!("unexpected condition failure: {failed:?}"))),
            }),
            Err(TransactError::Contended) => Err(WriteFailure::Contended),
            // Its answer lost, the write may have committed: the subtenant
            // item, which each of these transactions writes, tells.
            Err(TransactError::Other(e)) => {
                let landed = self.subtenant_landed(&tenant.id, write);
                Ok(settle(e, "subtenant", landed).await?)
            }
        }
    }

    /// Whether the table shows a subtenant write done: `after` stored with
    /// its version and this change's stamp, or, for a delete, no subtenant
    /// of that id left (ids are never reused).
    async fn subtenant_landed(&self, tenant_id: &TenantId, write: VersionedWrite<'_, Subtenant>) -> Result<bool> {
        let stored = self.get_subtenant(tenant_id, &write.item().id).await?;
        Ok(match (write.after(), stored) {
            (Some(after), Some(stored)) => {
                stored.version == after.version
                    && stored.updated_at == after.updated_at
                    && stored.updated_by == after.updated_by
            }
            (None, stored) => stored.is_none(),
            (Some(_), None) => false,
        })
    }

    /// Adds `by` to a tenant's subtenant count (and bumps its version, so
    /// writers holding the old count retry), if it is still this incarnation;
    /// a tenant gaining a subtenant must not be retired.
    fn count_subtenants_by(&self, tenant: &Tenant, by: i64) -> Result<TransactWriteItem> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant(&tenant.id))))
            .update_expression("ADD #count :by, #version :one")
            .expression_attribute_names("#count", SUBTENANT_COUNT)
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_names("#createdAt", CREATED_AT)
            .expression_attribute_values(":by", number_value(by))
            .expression_attribute_values(":one", number_value(1))
            .expression_attribute_values(":incarnation", string_value(tenant.created_at.to_string()));
        update = if by > 0 {
            update
                .condition_expression("#createdAt = :incarnation AND #status <> :retired")
                .expression_attribute_names("#status", STATUS)
                .expression_attribute_values(":retired", string_value(Status::Retired.as_str()))
        } else {
            update.condition_expression("#createdAt = :incarnation")
        };
        Ok(TransactWriteItem::builder()
            .update(update.build().map_err(Error::internal)?)
            .build())
    }

    /// Deletes a code guard unless it belongs to another subtenant.
    fn delete_code_guard(&self, tenant_id: &TenantId, code: &SubtenantCode, id: &str) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::subtenant_code(tenant_id, code))))
            .condition_expression("attribute_not_exists(PK) OR #owner = :id")
            .expression_attribute_names("#owner", SUBTENANT_ID)
            .expression_attribute_values(":id", string_value(id))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The `Query` of a tenant's subtenants in an order, and the key
    /// attributes a position in it has.
    fn subtenant_query(&self, tenant_id: &TenantId, order: SubtenantOrder) -> (QueryFluentBuilder, Vec<&'static str>) {
        let index = match order {
            SubtenantOrder::Created => {
                let request = self.query_prefix(&keys::tenant(tenant_id).pk, keys::SUBTENANT_SK_PREFIX);
                return (request, vec![PK, SK]);
            }
            SubtenantOrder::Name => GSI1,
            SubtenantOrder::Code => GSI2,
        };
        let request = self.query_partition(Some(&index), keys::subtenants_of(tenant_id));
        (request, vec![PK, SK, index.pk, index.sk])
    }

    /// A page of a tenant's subtenants: one `Query`.
    pub async fn list_subtenants(
        &self,
        tenant_id: &TenantId,
        order: SubtenantOrder,
        descending: bool,
        limit: usize,
        from: Option<&SubtenantPosition>,
    ) -> Result<SubtenantPage> {
        let (request, key) = self.subtenant_query(tenant_id, order);
        page(request, &key, descending, limit, from).await
    }

    /// A page of every subtenant, by creation (GSI4): one `Query`.
    pub async fn list_all_subtenants(
        &self,
        descending: bool,
        limit: usize,
        from: Option<&SubtenantPosition>,
    ) -> Result<SubtenantPage> {
        let request = self.query_partition(Some(&GSI4), keys::ALL_SUBTENANTS);
        page(request, &[PK, SK, GSI4.pk, GSI4.sk], descending, limit, from).await
    }

    /// How many subtenants a tenant has (a `Select=COUNT` query).
    pub async fn count_subtenants(&self, tenant_id: &TenantId) -> Result<u64> {
        self.query_count(self.subtenant_query(tenant_id, SubtenantOrder::Created).0)
            .await
    }

    /// The codes of a tenant's subtenants that start with `prefix`.
    pub async fn codes_with_prefix(&self, tenant_id: &TenantId, prefix: &str) -> Result<Vec<String>> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2.name)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", GSI2.pk)
            .expression_attribute_names("#sk", GSI2.sk)
            .expression_attribute_values(":pk", string_value(keys::subtenants_of(tenant_id)))
            .expression_attribute_values(":prefix", string_value(prefix))
            .projection_expression("#sk");
        let items = self.query_all(request).await?;
        Ok(items
            .iter()
            .filter_map(|i| string_attr(i, GSI2.sk))
            .map(str::to_owned)
            .collect())
    }

    /// Sets `resellerId` on one subtenant if its version is still the one
    /// read (and bumps it). `false`: it changed meanwhile.
    pub async fn set_subtenant_reseller(&self, subtenant: &Subtenant, reseller: Option<&str>) -> Result<bool> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::subtenant(&subtenant.tenant_id, &subtenant.id))))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_names("#reseller", RESELLER_ID)
            .expression_attribute_values(":expected", number_value(subtenant.version))
            .expression_attribute_values(":one", number_value(1));
        let request = match reseller {
            Some(r) => request
                .update_expression("SET #reseller = :reseller ADD #version :one")
                .expression_attribute_values(":reseller", string_value(r)),
            None => request.update_expression("REMOVE #reseller ADD #version :one"),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    /// Deletes every subtenant of a tenant (with code guards), up to 45 per
    /// transaction with the tenant's count; returns their ids.
    pub async fn delete_all_subtenants(&self, tenant: &Tenant) -> Result<Vec<String>> {
        let mut deleted = Vec::new();
        loop {
            let (batch, _) = self
                .list_subtenants(&tenant.id, SubtenantOrder::Created, false, DELETE_BATCH, None)
                .await?;
            if batch.is_empty() {
                return Ok(deleted);
            }
            let mut items = Vec::with_capacity(batch.len() * 2 + 1);
            for sub in &batch {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&keys::subtenant(&tenant.id, &sub.id))))
                    .build()
                    .map_err(Error::internal)?;
                items.push(TransactWriteItem::builder().delete(delete).build());
                items.push(self.delete_code_guard(&tenant.id, &sub.code, &sub.id)?);
            }
            items.push(self.count_subtenants_by(tenant, -(batch.len() as i64))?);
            transact(&self.client, items).await.map_err(Error::from)?;
            deleted.extend(batch.into_iter().map(|s| s.id));
        }
    }
}

/// Runs a subtenant `Query` for one page (`limit` + 1 read to know if there
/// is more); the position is the last item's key.
async fn page(
    request: QueryFluentBuilder,
    key: &[&str],
    descending: bool,
    limit: usize,
    from: Option<&SubtenantPosition>,
) -> Result<SubtenantPage> {
    let output = request
        .scan_index_forward(!descending)
        .set_exclusive_start_key(from.map(SubtenantPosition::to_key))
        .limit(limit as i32 + 1)
        .send()
        .await
        .map_err(classify)?;
    let items = output.items.unwrap_or_default();
    let more = items.len() > limit;
    let mut last_key = None;
    let mut subtenants = Vec::with_capacity(limit);
    for item in items.into_iter().take(limit) {
        last_key = Some(key_of(&item, key));
        subtenants.push(subtenant_from_item(item)?);
    }
    let next = if more {
        last_key.map(|k| SubtenantPosition::from_key(&k))
    } else {
        None
    };
    Ok((subtenants, next))
}

/// The attributes of an item a position needs.
fn key_of(item: &Item, key: &[&str]) -> Item {
    item.iter()
        .filter(|(k, _)| key.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
