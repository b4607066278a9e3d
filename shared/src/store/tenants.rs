//! Tenant writes and reads. Each write says its condition: `create` (neither
//! the id nor the name exists), `replace_if_version`, `delete_if_version`.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::keys;
use super::records::{self, key_item, n, s, tenant_from_item, tenant_item, Item, TENANT_ID};
use super::sdk::{classify, is_condition_failed, transact, TransactError};
use super::Store;
use crate::domain::{Tenant, TenantId};
use crate::error::{Error, Result};

/// Why a versioned write did not happen.
#[derive(Debug)]
pub enum WriteFailure {
    /// The stored version is no longer the expected one (or the item is gone).
    VersionChanged,
    /// The new name is held by another tenant.
    NameTaken,
    Other(Error),
}

impl From<Error> for WriteFailure {
    fn from(err: Error) -> Self {
        Self::Other(err)
    }
}

const VERSION_IS: &str = "#version = :expected";
const GUARD_IS_MINE: &str = "attribute_not_exists(PK) OR #tenantId = :id";

impl Store {
    /// One strongly consistent `GetItem`: a client reads its own writes.
    #[tracing::instrument(skip(self), fields(tenant_id = %id))]
    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>> {
        let key = keys::tenant(id);
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item.map(tenant_from_item).transpose()
    }

    /// Creates the tenant and its name guard in one transaction; either both
    /// exist afterwards or neither.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    pub async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let items = vec![
            self.put_new(tenant_item(tenant, self.list_shards)?)?,
            self.put_new(records::name_guard_item(&tenant.name.key(), &tenant.id))?,
        ];
        match transact(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::ConditionFailed(failed)) if failed.contains(&0) => Err(Error::Conflict(format!(
                "a tenant with id '{}' already exists",
                tenant.id
            ))),
            Err(TransactError::ConditionFailed(_)) => Err(name_taken(tenant)),
            Err(other) => Err(other.into()),
        }
    }

    /// Replaces the tenant if its stored version is still `expected`; moves
    /// the name guard in the same transaction when the name key changes.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    pub async fn replace_tenant_if_version(
        &self,
        tenant: &Tenant,
        expected: u64,
        old_name_key: &str,
    ) -> Result<(), WriteFailure> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(tenant_item(tenant, self.list_shards)?))
            .condition_expression(VERSION_IS)
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected))
            .build()
            .map_err(Error::internal)?;
        let new_name_key = tenant.name.key();
        if new_name_key == old_name_key {
            return self.put_if(put).await;
        }
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            self.delete_guard(old_name_key, &tenant.id)?,
            self.put_new(records::name_guard_item(&new_name_key, &tenant.id))?,
        ];
        match transact(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::ConditionFailed(failed)) if failed.contains(&0) => Err(WriteFailure::VersionChanged),
            Err(TransactError::ConditionFailed(_)) => Err(WriteFailure::NameTaken),
            Err(TransactError::Contended) => Err(WriteFailure::VersionChanged),
            Err(TransactError::Other(e)) => Err(e.into()),
        }
    }

    /// Deletes the tenant and its name guard if its version is still `expected`.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    pub async fn delete_tenant_if_version(&self, tenant: &Tenant, expected: u64) -> Result<(), WriteFailure> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant(&tenant.id))))
            .condition_expression(VERSION_IS)
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.delete_guard(&tenant.name.key(), &tenant.id)?,
        ];
        match transact(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::ConditionFailed(_) | TransactError::Contended) => Err(WriteFailure::VersionChanged),
            Err(TransactError::Other(e)) => Err(e.into()),
        }
    }

    /// A `Put` that succeeds only if no item has its key.
    fn put_new(&self, item: Item) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Deletes a name guard unless it belongs to another tenant (a missing
    /// guard is fine: the delete then repairs nothing and breaks nothing).
    fn delete_guard(&self, name_key: &str, id: &TenantId) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant_name(name_key))))
            .condition_expression(GUARD_IS_MINE)
            .expression_attribute_names("#tenantId", TENANT_ID)
            .expression_attribute_values(":id", s(id.as_str()))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// A single conditional `PutItem` (cheaper than a one-item transaction).
    async fn put_if(&self, put: Put) -> Result<(), WriteFailure> {
        let result = self
            .client
            .put_item()
            .table_name(put.table_name)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_names(put.expression_attribute_names)
            .set_expression_attribute_values(put.expression_attribute_values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failed(&err) => Err(WriteFailure::VersionChanged),
            Err(err) => Err(classify(err).into()),
        }
    }
}

fn name_taken(tenant: &Tenant) -> Error {
    Error::Conflict(format!("a tenant named '{}' already exists", tenant.name))
}

impl WriteFailure {
    /// The error for a rename whose new name is taken.
    pub fn name_taken(tenant: &Tenant) -> Error {
        name_taken(tenant)
    }
}
