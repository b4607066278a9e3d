//! What the clean-up needs: retired tenants by `retiredAt` (GSI6's `RETIRED`
//! partition), the purge mark, the owned items, and the final transaction
//! that leaves a tombstone.

use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem, Update};

use super::attributes::{CHILD_COUNT, PURGE_STARTED_AT, STATUS, TENANT_ID, VERSION};
use super::keys;
use super::records::{self, key_item, number_value, string_attr, string_value, tenant_from_item, Item};
use super::sdk::{classify, is_condition_failed, transact, TransactError};
use super::table::{GSI6, SK};
use super::Store;
use crate::domain::{Status, Tenant, Timestamp};
use crate::error::{Error, Result};

impl Store {
    /// Retired tenants retired before `cutoff`, oldest first, `limit` at a
    /// time after `after`: one `Query` (eventually consistent; the purge
    /// checks each tenant again).
    pub async fn retired_before(
        &self,
        cutoff: Timestamp,
        limit: usize,
        after: Option<Item>,
    ) -> Result<(Vec<Tenant>, Option<Item>)> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI6.name)
            .key_condition_expression("#pk = :pk AND #sk < :cutoff")
            .expression_attribute_names("#pk", GSI6.pk)
            .expression_attribute_names("#sk", GSI6.sk)
            .expression_attribute_values(":pk", string_value(keys::RETIRED_LIST))
            .expression_attribute_values(":cutoff", string_value(cutoff.to_string()))
            .set_exclusive_start_key(after)
            .limit(limit as i32)
            .send()
            .await
            .map_err(classify)?;
        let tenants = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(tenant_from_item)
            .collect::<Result<_>>()?;
        Ok((tenants, output.last_evaluated_key))
    }

    /// Marks a retired tenant as being purged, if it is still retired and
    /// unchanged since it was read (so a restore in between wins); from then
    /// on it cannot be restored. `None`: it changed.
    pub async fn mark_purging(&self, tenant: &Tenant, at: Timestamp) -> Result<Option<Tenant>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant(&tenant.id))))
            .update_expression("SET #mark = :at ADD #version :one")
            .condition_expression("#version = :expected AND #status = :retired")
            .expression_attribute_names("#mark", PURGE_STARTED_AT)
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":at", string_value(at.to_string()))
            .expression_attribute_values(":one", number_value(1))
            .expression_attribute_values(":expected", number_value(tenant.version))
            .expression_attribute_values(":retired", string_value(Status::Retired.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(tenant_from_item).transpose(),
            Err(e) if is_condition_failed(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    /// Up to `limit` keys of the items under a tenant's PK other than the
    /// tenant itself (history, facets, members, subtenants, code guards).
    pub async fn owned_keys(&self, tenant: &Tenant, limit: usize) -> Result<Vec<Item>> {
        let owned = |k: &Item| string_attr(k, SK) != Some(keys::TENANT_SK);
        let request = self
            .query_partition(None, keys::tenant(&tenant.id).pk)
            .expression_attribute_names("#sk", SK)
            .projection_expression("#pk, #sk")
            .limit(limit as i32 + 1);
        let mut keys: Vec<Item> = self
            .query_until(request, |found| found.iter().filter(|k| owned(k)).count() >= limit)
            .await?
            .into_iter()
            .filter(owned)
            .collect();
        keys.truncate(limit);
        Ok(keys)
    }

    /// Deletes items by key (batches of 25, unprocessed retried).
    pub async fn delete_items(&self, keys: Vec<Item>) -> Result<usize> {
        let count = keys.len();
        for chunk in keys.chunks(25) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        Ok(count)
    }

    /// The purge's last step, one transaction: the tombstone replaces the
    /// tenant (if it is still the one marked for purging), the name guard
    /// goes (a mark of the purge takes its place under the name, for
    /// by-name lookups, as long as the tombstone lasts), the parent loses a
    /// child. `false`: the tenant changed.
    pub async fn finish_purge(&self, tenant: &Tenant, purged_at: Timestamp, expires_at: Timestamp) -> Result<bool> {
        let tombstone = Put::builder()
            .table_name(&self.table)
            .set_item(Some(records::tombstone_item(tenant, purged_at, expires_at)))
            .condition_expression("#version = :expected AND attribute_exists(#mark)")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_names("#mark", PURGE_STARTED_AT)
            .expression_attribute_values(":expected", number_value(tenant.version))
            .build()
            .map_err(Error::internal)?;
        let guard = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant_name(&tenant.name.key()))))
            .condition_expression("attribute_not_exists(PK) OR #tenantId = :id")
            .expression_attribute_names("#tenantId", TENANT_ID)
            .expression_attribute_values(":id", string_value(tenant.id.as_str()))
            .build()
            .map_err(Error::internal)?;
        let mut items = vec![
            TransactWriteItem::builder().put(tombstone).build(),
            TransactWriteItem::builder().delete(guard).build(),
        ];
        if let Some(parent) = &tenant.parent_id {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_item(&keys::tenant(parent))))
                .update_expression("ADD #children :minus, #version :one")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#children", CHILD_COUNT)
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":minus", number_value(-1))
                .expression_attribute_values(":one", number_value(1))
                .build()
                .map_err(Error::internal)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        items.push(self.put_action(records::purged_name_item(tenant, purged_at, expires_at))?);
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(TransactError::ConditionFailed(failed)) if failed == [0] => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}
