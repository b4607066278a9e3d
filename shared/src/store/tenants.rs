//! Tenant reads, and the three tenant writes, each named after its
//! condition: [`Store::create_tenant`], [`Store::update_tenant_if_version`],
//! [`Store::delete_tenant_if_childless`]. Each commits the tenant change with
//! everything that must change with it (name guards, facet items, the audit
//! event, parents' child counts, unchanged-ancestor checks, background work,
//! the idempotency record: [`WrittenWith`]) as one transaction, and
//! translates a failed condition into a [`WriteFailure`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update};

use super::attributes::{CHILD_COUNT, NAME, PATH, STATUS, SUBTENANT_COUNT, TENANT_ID, VERSION};
use super::entity::{DecodeError, EntityType, Record};
use super::keys;
use super::records::{self, key_item, number_value, string_value, tenant_item, Item};
use super::sdk::{classify, transact, TransactError};
use super::table::{PK, SK, TTL_ATTRIBUTE};
use super::versioned_write::VersionedWrite;
use super::Store;
use crate::domain::audit::AuditEvent;
use crate::domain::{Status, Tenant, TenantId, Timestamp};
use crate::error::{Error, Result};

/// What the table holds under a tenant id.
#[derive(Debug)]
pub enum TenantEntry {
    Tenant(Box<Tenant>),
    /// Purged by the clean-up; the tombstone stays 30 days.
    Purged {
        purged_at: String,
        /// The purged tenant's path (root first, itself last) when it was
        /// purged; empty on tombstones written before it was kept.
        path: Vec<TenantId>,
    },
    Missing,
}

/// Who a tenant name belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameHolder {
    /// The live tenant holding it (its guard).
    Tenant(TenantId),
    /// None now; the last tenant that held it was purged then (its mark,
    /// kept as long as the tombstone).
    Purged {
        id: TenantId,
        purged_at: String,
    },
    Nobody,
}

/// Why a tenant write did not happen.
#[derive(Debug)]
pub enum WriteFailure {
    /// A new tenant's id exists already.
    AlreadyExists,
    /// The stored version is no longer the one read (or the item is gone,
    /// or, for a delete, it has children now).
    VersionChanged,
    /// The name is held by another tenant.
    NameTaken,
    /// A parent or ancestor moved, was retired or disappeared meanwhile.
    HierarchyChanged,
    /// The idempotency key was used by a concurrent request.
    IdempotencyKeyUsed,
    /// Every attempt collided with concurrent transactions.
    Contended,
    /// Conditions of these actions of `extra` failed (their indexes in it).
    ExtraFailed(Vec<usize>),
    Other(Error),
}

impl From<Error> for WriteFailure {
    fn from(err: Error) -> Self {
        Self::Other(err)
    }
}

/// A parent whose child count changes with this write.
pub enum ParentDelta<'a> {
    /// It receives the tenant: its path and name must be as read, and it
    /// must not be retired.
    Gains(&'a Tenant),
    Loses(&'a TenantId),
}

/// What is written with a tenant change, in the same transaction.
#[derive(Default)]
pub struct WrittenWith<'a> {
    pub event: Option<&'a AuditEvent>,
    pub parents: Vec<ParentDelta<'a>>,
    /// Tenants whose `path` must be what it was when read.
    pub unchanged_paths: Vec<&'a Tenant>,
    /// Background work that finishes the change (pending items).
    pub pending: Vec<Item>,
    /// Other items written with the change, with their own conditions if
    /// any (a failed one is [`WriteFailure::ExtraFailed`]): the creator's
    /// membership, a deployment, a job's end.
    pub extra: Vec<TransactWriteItem>,
}

/// A tenant change and what comes with it (private: callers name the
/// change by the public write they call).
struct TenantWrite<'a> {
    change: VersionedWrite<'a, Tenant>,
    event: Option<&'a AuditEvent>,
    parents: Vec<ParentDelta<'a>>,
    unchanged_paths: Vec<&'a Tenant>,
    pending: Vec<Item>,
    /// The idempotency record of a create, and the time it is checked at.
    idempotency: Option<(Item, Timestamp)>,
    extra: Vec<TransactWriteItem>,
}

impl<'a> TenantWrite<'a> {
    fn of(change: VersionedWrite<'a, Tenant>, with: WrittenWith<'a>) -> Self {
        let WrittenWith {
            event,
            parents,
            unchanged_paths,
            pending,
            extra,
        } = with;
        Self {
            change,
            event,
            parents,
            unchanged_paths,
            pending,
            idempotency: None,
            extra,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Tenant,
    NameGuard,
    Facet,
    Event,
    Parent,
    Ancestor,
    Pending,
    Idempotency,
    Extra,
}

/// DynamoDB's limit of actions in one transaction.
const MAX_ACTIONS: usize = 100;

impl Store {
    /// One strongly consistent `GetItem`: a client reads its own writes.
    #[tracing::instrument(skip(self), fields(tenant_id = %id))]
    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>> {
        match self.tenant_entry(id).await? {
            TenantEntry::Tenant(tenant) => Ok(Some(*tenant)),
            TenantEntry::Purged { .. } | TenantEntry::Missing => Ok(None),
        }
    }

    /// What the table holds under a tenant id: the tenant, the tombstone of
    /// a purged one, or nothing (one strongly consistent `GetItem`).
    pub async fn tenant_entry(&self, id: &TenantId) -> Result<TenantEntry> {
        let Some(item) = self.get_consistent(&keys::tenant(id)).await? else {
            return Ok(TenantEntry::Missing);
        };
        match Record::from_item(item) {
            Ok(Record::Tenant(tenant)) => Ok(TenantEntry::Tenant(tenant)),
            Ok(Record::Tombstone { purged_at, path }) => Ok(TenantEntry::Purged {
                purged_at: purged_at.unwrap_or_default(),
                path,
            }),
            Err(e @ DecodeError::Unreadable(EntityType::Tenant, _)) => Err(e.into_error()),
            _ => Ok(TenantEntry::Missing),
        }
    }

    /// Who a name key belongs to (one strongly consistent `Query` of the
    /// name's partition, newest first: its guard sorts before the marks of
    /// purges).
    pub async fn name_holder(&self, name_key: &str) -> Result<NameHolder> {
        let output = self
            .query_partition(None, keys::tenant_name(name_key).pk)
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = output.items.unwrap_or_default().into_iter().next() else {
            return Ok(NameHolder::Nobody);
        };
        Ok(match Record::from_item(item) {
            Ok(Record::NameGuard { tenant_id }) => NameHolder::Tenant(tenant_id),
            Ok(Record::PurgedName { tenant_id, purged_at }) => NameHolder::Purged {
                id: tenant_id,
                purged_at: purged_at.unwrap_or_default(),
            },
            _ => NameHolder::Nobody,
        })
    }

    /// The id of the tenant holding a name key (one `GetItem` on its guard).
    pub async fn tenant_id_by_name(&self, name_key: &str) -> Result<Option<TenantId>> {
        let guard = self.get_consistent(&keys::tenant_name(name_key)).await?;
        Ok(guard
            .as_ref()
            .and_then(|i| records::string_attr(i, TENANT_ID))
            .and_then(|id| TenantId::parse(id).ok()))
    }

    /// Tenants by id, in one `BatchGetItem` per 100 ids (unprocessed keys
    /// retried); missing ids are left out. Eventually consistent, like lists.
    pub async fn get_tenants(&self, ids: &[TenantId]) -> Result<HashMap<TenantId, Tenant>> {
        self.batch_get_tenants(ids, false).await
    }

    /// [`Store::get_tenants`], strongly consistent.
    pub async fn get_tenants_consistent(&self, ids: &[TenantId]) -> Result<HashMap<TenantId, Tenant>> {
        self.batch_get_tenants(ids, true).await
    }

    async fn batch_get_tenants(&self, ids: &[TenantId], consistent: bool) -> Result<HashMap<TenantId, Tenant>> {
        let keys: Vec<Item> = ids.iter().map(|id| key_item(&keys::tenant(id))).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys, consistent).await? {
            match Record::from_item(item) {
                Ok(Record::Tenant(tenant)) => {
                    found.insert(tenant.id.clone(), *tenant);
                }
                Err(e @ DecodeError::Unreadable(EntityType::Tenant, _)) => return Err(e.into_error()),
                _ => {}
            }
        }
        Ok(found)
    }

    /// The items with these keys, in `BatchGetItem`s of 100 (unprocessed
    /// keys retried with back-off); missing keys are left out, order is not kept.
    pub(crate) async fn batch_get(&self, mut keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>> {
        // DynamoDB refuses a batch that names a key twice.
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| {
            seen.insert((
                records::string_attr(k, PK).map(str::to_owned),
                records::string_attr(k, SK).map(str::to_owned),
            ))
        });
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let keys = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(consistent);
            let mut request = Some(keys.build().map_err(Error::internal)?);
            for attempt in 0.. {
                let Some(keys) = request.take() else { break };
                if attempt == 8 {
                    return Err(Error::Throttled);
                }
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(classify)?;
                found.extend(
                    output
                        .responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                request = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if request.is_some() {
                    tokio::time::sleep(super::sdk::backoff(attempt + 1)).await;
                }
            }
        }
        Ok(found)
    }

    /// Creates a tenant if its id is free ([`WriteFailure::AlreadyExists`]
    /// if not) and its name too ([`WriteFailure::NameTaken`]); with an
    /// idempotency record, only if that key is unused or expired
    /// ([`WriteFailure::IdempotencyKeyUsed`]).
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant.id))]
    pub async fn create_tenant(
        &self,
        tenant: &Tenant,
        idempotency: Option<(Item, Timestamp)>,
        with: WrittenWith<'_>,
    ) -> Result<(), WriteFailure> {
        let write = TenantWrite {
            idempotency,
            ..TenantWrite::of(VersionedWrite::Create(tenant), with)
        };
        self.commit(&write).await
    }

    /// Replaces `current` by `next` if the stored version is still
    /// `current`'s ([`WriteFailure::VersionChanged`] if not), moving its
    /// name guard when the name changes ([`WriteFailure::NameTaken`]).
    #[tracing::instrument(skip_all, fields(tenant_id = %current.id))]
    pub async fn update_tenant_if_version(
        &self,
        current: &Tenant,
        next: &Tenant,
        with: WrittenWith<'_>,
    ) -> Result<(), WriteFailure> {
        self.commit(&TenantWrite::of(VersionedWrite::Update { current, next }, with))
            .await
    }

    /// Deletes a tenant, with its name guard and facets, if the stored
    /// version is still `current`'s and it has neither children nor
    /// subtenants ([`WriteFailure::VersionChanged`] if not).
    #[tracing::instrument(skip_all, fields(tenant_id = %current.id))]
    pub async fn delete_tenant_if_childless(
        &self,
        current: &Tenant,
        with: WrittenWith<'_>,
    ) -> Result<(), WriteFailure> {
        self.commit(&TenantWrite::of(VersionedWrite::Delete(current), with))
            .await
    }

    /// Commits a tenant write as one transaction.
    async fn commit(&self, write: &TenantWrite<'_>) -> Result<(), WriteFailure> {
        let (items, roles) = self.actions(write)?;
        if items.len() > MAX_ACTIONS {
            return Err(Error::internal(format!("a tenant write needs {} actions", items.len())).into());
        }
        match transact(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(TransactError::ConditionFailed(indexes)) => {
                let failed: Vec<Role> = indexes.iter().map(|i| roles[*i]).collect();
                let creating = matches!(write.change, VersionedWrite::Create(_));
                let first_extra = roles.iter().position(|r| *r == Role::Extra).unwrap_or(roles.len());
                let extra: Vec<usize> = indexes
                    .iter()
                    .filter(|i| roles[**i] == Role::Extra)
                    .map(|i| i - first_extra)
                    .collect();
                Err(match () {
                    _ if failed.contains(&Role::Idempotency) => WriteFailure::IdempotencyKeyUsed,
                    _ if failed.contains(&Role::Tenant) && creating => WriteFailure::AlreadyExists,
                    _ if failed.contains(&Role::Tenant) => WriteFailure::VersionChanged,
                    _ if failed.contains(&Role::NameGuard) => WriteFailure::NameTaken,
                    _ if failed.contains(&Role::Parent) || failed.contains(&Role::Ancestor) => {
                        WriteFailure::HierarchyChanged
                    }
                    _ if !extra.is_empty() => WriteFailure::ExtraFailed(extra),
                    _ => WriteFailure::Other(Error::internal(format!("unexpected condition failure: {failed:?}"))),
                })
            }
            Err(TransactError::Contended) => Err(WriteFailure::Contended),
            Err(TransactError::Other(e @ Error::Unavailable(_))) => self.settle(write, e).await,
            Err(TransactError::Other(e)) => Err(e.into()),
        }
    }

    /// A transaction whose answer never came (a timeout, a broken
    /// connection) may have committed all the same. The tenant item, written
    /// by every tenant transaction, tells which: the new version with this
    /// change's stamp (or, for a delete, no incarnation left) means it did,
    /// and the caller hears of the change it made rather than a 503 that
    /// invites a retry of it. Anything else keeps the 503.
    async fn settle(&self, write: &TenantWrite<'_>, error: Error) -> Result<(), WriteFailure> {
        let id = &write.change.item().id;
        let Ok(stored) = self.get_tenant(id).await else {
            return Err(error.into());
        };
        let committed = match (write.change.after(), stored) {
            (Some(after), Some(stored)) => {
                stored.version == after.version
                    && stored.updated_at == after.updated_at
                    && stored.created_at == after.created_at
            }
            (None, None) => true,
            (None, Some(stored)) => write.change.before().is_some_and(|b| stored.created_at != b.created_at),
            (Some(_), None) => false,
        };
        if committed {
            tracing::warn!(tenant_id = %id, "the answer to a tenant write was lost; the table shows it committed");
            Ok(())
        } else {
            Err(error.into())
        }
    }

    fn actions(&self, write: &TenantWrite<'_>) -> Result<(Vec<TransactWriteItem>, Vec<Role>)> {
        let mut items = Vec::new();
        let mut roles = Vec::new();
        let mut push = |item: TransactWriteItem, role: Role| {
            items.push(item);
            roles.push(role);
        };

        match write.change {
            VersionedWrite::Create(after) => push(self.put_new(tenant_item(after, self.list_shards)?)?, Role::Tenant),
            VersionedWrite::Update {
                current: before,
                next: after,
            } => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(tenant_item(after, self.list_shards)?))
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_values(":expected", number_value(before.version))
                    .build()
                    .map_err(Error::internal)?;
                push(TransactWriteItem::builder().put(put).build(), Role::Tenant);
            }
            VersionedWrite::Delete(before) => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&keys::tenant(&before.id))))
                    .condition_expression(
                        "#version = :expected AND (attribute_not_exists(#children) OR #children = :zero) \
                         AND (attribute_not_exists(#subtenants) OR #subtenants = :zero)",
                    )
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_names("#children", CHILD_COUNT)
                    .expression_attribute_names("#subtenants", SUBTENANT_COUNT)
                    .expression_attribute_values(":expected", number_value(before.version))
                    .expression_attribute_values(":zero", number_value(0))
                    .build()
                    .map_err(Error::internal)?;
                push(TransactWriteItem::builder().delete(delete).build(), Role::Tenant);
            }
        }

        let id = write.change.item().id.clone();
        let old_name = write.change.before().map(|t| t.name.key());
        let new_name = write.change.after().map(|t| t.name.key());
        if old_name != new_name {
            if let Some(old) = &old_name {
                push(self.delete_guard(old, &id)?, Role::NameGuard);
            }
            if let Some(new) = &new_name {
                push(self.put_new(records::name_guard_item(new, &id))?, Role::NameGuard);
            }
        }

        for change in records::facet_changes(write.change.before(), write.change.after(), self.list_shards) {
            let action = match change.after {
                Some(item) => TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item))
                            .build()
                            .map_err(Error::internal)?,
                    )
                    .build(),
                None => TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_item(&change.key)))
                            .build()
                            .map_err(Error::internal)?,
                    )
                    .build(),
            };
            push(action, Role::Facet);
        }

        if let Some(event) = write.event {
            let incarnation = write.change.item().created_at;
            push(self.put_new(records::event_item(event, incarnation)?)?, Role::Event);
        }

        for delta in &write.parents {
            let (parent_id, by) = match delta {
                ParentDelta::Gains(parent) => (&parent.id, 1),
                ParentDelta::Loses(id) => (*id, -1),
            };
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_item(&keys::tenant(parent_id))))
                .update_expression("ADD #children :delta, #version :one")
                .expression_attribute_names("#children", CHILD_COUNT)
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":delta", number_value(by))
                .expression_attribute_values(":one", number_value(1));
            update = match delta {
                ParentDelta::Gains(parent) => update
                    .condition_expression("#path = :path AND #name = :name AND #status <> :retired")
                    .expression_attribute_names("#path", PATH)
                    .expression_attribute_names("#name", NAME)
                    .expression_attribute_names("#status", STATUS)
                    .expression_attribute_values(":path", path_value(parent))
                    .expression_attribute_values(":name", string_value(parent.name.as_str()))
                    .expression_attribute_values(":retired", string_value(Status::Retired.as_str())),
                ParentDelta::Loses(_) => update.condition_expression("attribute_exists(PK)"),
            };
            push(
                TransactWriteItem::builder()
                    .update(update.build().map_err(Error::internal)?)
                    .build(),
                Role::Parent,
            );
        }

        for ancestor in &write.unchanged_paths {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key_item(&keys::tenant(&ancestor.id))))
                .condition_expression("#path = :path")
                .expression_attribute_names("#path", PATH)
                .expression_attribute_values(":path", path_value(ancestor))
                .build()
                .map_err(Error::internal)?;
            push(
                TransactWriteItem::builder().condition_check(check).build(),
                Role::Ancestor,
            );
        }

        for pending in &write.pending {
            push(self.put_new(pending.clone())?, Role::Pending);
        }

        for action in &write.extra {
            push(action.clone(), Role::Extra);
        }

        if let Some((record, now)) = &write.idempotency {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(record.clone()))
                .condition_expression("attribute_not_exists(PK) OR #expires < :now")
                .expression_attribute_names("#expires", TTL_ATTRIBUTE)
                .expression_attribute_values(":now", number_value(now.unix_seconds()))
                .build()
                .map_err(Error::internal)?;
            push(TransactWriteItem::builder().put(put).build(), Role::Idempotency);
        }
        Ok((items, roles))
    }

    /// A plain `Put` action.
    pub fn put_action(&self, item: Item) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A `Put` that succeeds only if no item has its key.
    pub(crate) fn put_new(&self, item: Item) -> Result<TransactWriteItem> {
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
            .condition_expression("attribute_not_exists(PK) OR #tenantId = :id")
            .expression_attribute_names("#tenantId", TENANT_ID)
            .expression_attribute_values(":id", string_value(id.as_str()))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

/// A tenant's `path` as the attribute value it is stored as.
pub fn path_value(tenant: &Tenant) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::L(tenant.path.iter().map(|id| string_value(id.as_str())).collect())
}
