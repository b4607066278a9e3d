//! How domain values become items and back. Items carry `entityType` so the
//! table can be read (and checked) without knowing key formats.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::{self, Key, ListBucket};
use super::table::{BY_CREATED, BY_NAME, PK, SK};
use crate::domain::{Tenant, TenantId};
use crate::error::{Error, Result};

pub type Item = HashMap<String, AttributeValue>;

pub const ENTITY_TYPE: &str = "entityType";
pub const NAME_KEY: &str = "nameKey";
pub const TENANT_ID: &str = "tenantId";

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The attributes of a primary key.
pub fn key_item(key: &Key) -> Item {
    HashMap::from([(PK.to_owned(), s(&key.pk)), (SK.to_owned(), s(&key.sk))])
}

/// A tenant item: the tenant's fields, its key, and the keys of the list
/// indexes (bucket by status, shard by id, sorted by name key and by creation).
pub fn tenant_item(tenant: &Tenant, list_shards: u16) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(tenant).map_err(Error::internal)?;
    let name_key = tenant.name.key();
    let partition = keys::tenant_list(ListBucket::of(tenant.status), keys::shard_of(&tenant.id, list_shards));
    item.extend(key_item(&keys::tenant(&tenant.id)));
    item.insert(ENTITY_TYPE.into(), s("tenant"));
    item.insert(BY_NAME.pk.into(), s(&partition));
    item.insert(BY_NAME.sk.into(), s(&name_key));
    item.insert(BY_CREATED.pk.into(), s(partition));
    item.insert(
        BY_CREATED.sk.into(),
        s(keys::created_sort(tenant.created_at, &tenant.id)),
    );
    item.insert(NAME_KEY.into(), s(name_key));
    Ok(item)
}

pub fn tenant_from_item(item: Item) -> Result<Tenant> {
    serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable tenant item: {e}")))
}

/// The guard that holds a name key for one tenant.
pub fn name_guard_item(name_key: &str, id: &TenantId) -> Item {
    let mut item = key_item(&keys::tenant_name(name_key));
    item.insert(ENTITY_TYPE.into(), s("tenantName"));
    item.insert(TENANT_ID.into(), s(id.as_str()));
    item
}

/// A string attribute of an item, if present.
pub fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}
