//! How domain values become items and back. Items carry `entityType` so the
//! table can be read (and checked) without knowing key formats.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attributes::{
    BODY, CONTENT, DOMAIN, ENTITY_TYPE, EVENT, FINGERPRINT, ID, IDENTITY_PROVIDER_ID, INCARNATION, NAME, NAME_KEY,
    PATH, PROVIDER_INCARNATION, PURGED_AT, RETIRED_AT, STATUS, SUBJECT, SUBTENANT_ID, TENANT_ID, TYPE,
};
use super::entity::EntityType;
use super::keys::{self, FacetKind, Key, ListBucket};
use super::subtenant_record::SubtenantRecord;
use super::table::{GSI1, GSI2, GSI3, GSI4, GSI5, GSI6, PK, PREFIX_INDEXES, SK, TTL_ATTRIBUTE};
use super::tenant_record::TenantRecord;
use crate::domain::audit::AuditEvent;
use crate::domain::deployment::{Deployment, Job};
use crate::domain::identity_provider::{GroupMapping, IdentityProvider};
use crate::domain::member::Member;
use crate::domain::subtenant::Subtenant;
use crate::domain::{DomainName, Status, SubtenantCode, Tenant, TenantId, Timestamp};
use crate::error::{Error, Result};

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute value.
pub fn string_value(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value (DynamoDB sends numbers as text).
pub fn number_value(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The attributes of a primary key.
pub fn key_item(key: &Key) -> Item {
    HashMap::from([
        (PK.to_owned(), string_value(&key.pk)),
        (SK.to_owned(), string_value(&key.sk)),
    ])
}

fn with_key(key: &Key, entity_type: EntityType) -> Item {
    let mut item = key_item(key);
    item.insert(ENTITY_TYPE.into(), string_value(entity_type.as_str()));
    item
}

/// A tenant item: its record ([`TenantRecord`]), its key, and the keys of
/// every index it is listed in (main lists by bucket and shard, children,
/// reseller, tree).
pub fn tenant_item(tenant: &Tenant, list_shards: u16) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(TenantRecord::from(tenant)).map_err(Error::internal)?;
    let name_key = tenant.name.key();
    let bucket = ListBucket::of(tenant.status);
    let partition = keys::tenant_list(bucket, keys::shard_of(&tenant.id, list_shards));
    item.extend(key_item(&keys::tenant(&tenant.id)));
    item.insert(GSI1.pk.into(), string_value(&partition));
    item.insert(GSI1.sk.into(), string_value(&name_key));
    item.insert(GSI2.pk.into(), string_value(partition));
    item.insert(
        GSI2.sk.into(),
        string_value(keys::created_sort(tenant.created_at, &tenant.id)),
    );
    if let Some(parent) = &tenant.parent_id {
        item.insert(GSI3.pk.into(), string_value(keys::children(parent, bucket)));
        item.insert(GSI3.sk.into(), string_value(&name_key));
    }
    if let Some(reseller) = &tenant.reseller_id {
        item.insert(GSI4.pk.into(), string_value(keys::reseller(reseller, bucket)));
        item.insert(GSI4.sk.into(), string_value(&name_key));
    }
    if let (Status::Retired, Some(retired_at)) = (tenant.status, tenant.retired_at) {
        item.insert(GSI6.pk.into(), string_value(keys::RETIRED_LIST));
        item.insert(GSI6.sk.into(), string_value(keys::retired_sort(retired_at, &tenant.id)));
    }
    let root = tenant.path.first().unwrap_or(&tenant.id);
    item.insert(GSI5.pk.into(), string_value(keys::tree(root)));
    item.insert(GSI5.sk.into(), string_value(tenant.path_string()));
    item.insert(NAME_KEY.into(), string_value(name_key));
    Ok(item)
}

/// What stays of a purged tenant for 30 days (TTL): it answers 410 Gone (to
/// those who could see it: its `path` tells who), and its id cannot be taken
/// meanwhile. In no index.
pub fn tombstone_item(tenant: &Tenant, purged_at: Timestamp, expires_at: Timestamp) -> Item {
    let mut item = with_key(&keys::tenant(&tenant.id), EntityType::Tombstone);
    item.insert(ID.into(), string_value(tenant.id.as_str()));
    item.insert(NAME.into(), string_value(tenant.name.as_str()));
    item.insert(
        PATH.into(),
        AttributeValue::L(tenant.path.iter().map(|id| string_value(id.as_str())).collect()),
    );
    if let Some(retired_at) = tenant.retired_at {
        item.insert(RETIRED_AT.into(), string_value(retired_at.to_string()));
    }
    item.insert(PURGED_AT.into(), string_value(purged_at.to_string()));
    item.insert(TTL_ATTRIBUTE.into(), number_value(expires_at.unix_seconds()));
    item
}

/// The mark of a purged tenant under the name it held, as long as its
/// tombstone lasts: what a by-name lookup answers 410 from.
pub fn purged_name_item(tenant: &Tenant, purged_at: Timestamp, expires_at: Timestamp) -> Item {
    let mut item = with_key(
        &keys::purged_name(&tenant.name.key(), purged_at),
        EntityType::PurgedName,
    );
    item.insert(TENANT_ID.into(), string_value(tenant.id.as_str()));
    item.insert(PURGED_AT.into(), string_value(purged_at.to_string()));
    item.insert(TTL_ATTRIBUTE.into(), number_value(expires_at.unix_seconds()));
    item
}

pub fn tenant_from_item(item: Item) -> Result<Tenant> {
    let record: TenantRecord =
        serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable tenant item: {e}")))?;
    Tenant::try_from(record)
}

/// The guard that holds a name key for one tenant.
pub fn name_guard_item(name_key: &str, id: &TenantId) -> Item {
    let mut item = with_key(&keys::tenant_name(name_key), EntityType::TenantName);
    item.insert(TENANT_ID.into(), string_value(id.as_str()));
    item
}

/// The facet items of a tenant: one per tag and per external id, each in the
/// facet index under its value, sorted by the tenant's name. Slots keep keys
/// stable, so changing facets rewrites at most one item per facet. A
/// subtree's facet (one per id of the tenant's path) is also in the
/// by-creation index, so a non-admin's `createdAt` list reads its subtrees
/// only, and in the subtree's name prefix partitions (see
/// [`PREFIX_INDEXES`]); one more facet puts the tenant in the name prefix
/// partitions of its list shard, for a platform admin's. Both carry the
/// name key, which a longer prefix is filtered on.
pub fn facet_items(tenant: &Tenant, list_shards: u16) -> Vec<(Key, Item)> {
    struct Facet {
        kind: FacetKind,
        /// Its GSI6 partition, sorted by name.
        by_name: Option<String>,
        /// Its GSI2 partition, sorted by creation.
        by_created: Option<String>,
        /// Its name prefix partitions, shortest first.
        prefixes: Vec<String>,
    }
    let bucket = ListBucket::of(tenant.status);
    let name_key = tenant.name.key();
    let prefixes = keys::indexed_prefixes(&name_key);
    let facet = |kind, by_name| Facet {
        kind,
        by_name: Some(by_name),
        by_created: None,
        prefixes: Vec::new(),
    };
    let tags = tenant
        .tags
        .iter()
        .map(|tag| facet(FacetKind::Tag, keys::tag_facet(tag, bucket)));
    let ids = tenant
        .external_ids
        .iter()
        .map(|(k, v)| facet(FacetKind::ExternalId, keys::external_id_facet(k, v, bucket)));
    let within = tenant.path.iter().map(|a| Facet {
        kind: FacetKind::Within,
        by_name: Some(keys::within_facet(a, bucket)),
        by_created: Some(keys::within_by_created(a, bucket)),
        prefixes: prefixes
            .iter()
            .map(|p| keys::name_prefix_within(a, bucket, p))
            .collect(),
    });
    let idps = tenant
        .identity_provider_ids
        .iter()
        .map(|i| facet(FacetKind::IdentityProvider, keys::identity_provider_facet(i, bucket)));
    let shard = keys::shard_of(&tenant.id, list_shards);
    let names = (!prefixes.is_empty()).then(|| Facet {
        kind: FacetKind::Name,
        by_name: None,
        by_created: None,
        prefixes: prefixes
            .iter()
            .map(|p| keys::name_prefix_list(bucket, shard, p))
            .collect(),
    });
    let created = keys::created_sort(tenant.created_at, &tenant.id);
    let mut slots = HashMap::new();
    tags.chain(ids)
        .chain(within)
        .chain(idps)
        .chain(names)
        .map(|facet| {
            let slot = slots.entry(facet.kind as u8).or_insert(0usize);
            let key = keys::facet(&tenant.id, facet.kind, *slot);
            *slot += 1;
            let mut item = with_key(&key, EntityType::Facet);
            item.insert(TENANT_ID.into(), string_value(tenant.id.as_str()));
            if let Some(by_name) = facet.by_name {
                item.insert(GSI6.pk.into(), string_value(by_name));
                item.insert(GSI6.sk.into(), string_value(&name_key));
            }
            if let Some(by_created) = facet.by_created {
                item.insert(GSI2.pk.into(), string_value(by_created));
                item.insert(GSI2.sk.into(), string_value(&created));
            }
            if !facet.prefixes.is_empty() {
                item.insert(NAME_KEY.into(), string_value(&name_key));
            }
            for (index, partition) in PREFIX_INDEXES.iter().zip(facet.prefixes) {
                item.insert(index.pk.into(), string_value(partition));
                item.insert(index.sk.into(), string_value(&created));
            }
            (key, item)
        })
        .collect()
}

/// A facet item a tenant write changes: its image before (`None`: a new
/// one) and after (`None`: deleted).
#[derive(Debug, Clone, PartialEq)]
pub struct FacetChange {
    pub key: Key,
    pub before: Option<Item>,
    pub after: Option<Item>,
}

/// The facet items that differ between a tenant's two states (`None`: not
/// there, as before a create or after a delete): the new or changed ones
/// first, in [`facet_items`]' order, then the removed ones. An unchanged
/// facet is not written again.
pub fn facet_changes(before: Option<&Tenant>, after: Option<&Tenant>, list_shards: u16) -> Vec<FacetChange> {
    let mut old: HashMap<String, (Key, Item)> = before
        .map(|t| facet_items(t, list_shards))
        .unwrap_or_default()
        .into_iter()
        .map(|(key, item)| (key.sk.clone(), (key, item)))
        .collect();
    let mut changes = Vec::new();
    for (key, item) in after.map(|t| facet_items(t, list_shards)).unwrap_or_default() {
        let previous = old.remove(&key.sk).map(|(_, item)| item);
        if previous.as_ref() != Some(&item) {
            changes.push(FacetChange {
                key,
                before: previous,
                after: Some(item),
            });
        }
    }
    changes.extend(old.into_values().map(|(key, item)| FacetChange {
        key,
        before: Some(item),
        after: None,
    }));
    changes
}

/// The attributes [`facet_items`] writes for name prefixes: a facet
/// written before them lacks them (and nothing else).
pub fn name_prefix_attributes() -> impl Iterator<Item = &'static str> {
    PREFIX_INDEXES
        .iter()
        .flat_map(|index| [index.pk, index.sk])
        .chain([NAME_KEY])
}

/// A subtenant item: its record ([`SubtenantRecord`]), under its tenant, by
/// name (GSI1) and code (GSI2) in its tenant's partition, and by creation
/// among all subtenants (GSI4).
pub fn subtenant_item(subtenant: &Subtenant) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(SubtenantRecord::from(subtenant)).map_err(Error::internal)?;
    let partition = keys::subtenants_of(&subtenant.tenant_id);
    item.extend(key_item(&keys::subtenant(&subtenant.tenant_id, &subtenant.id)));
    item.insert(GSI1.pk.into(), string_value(&partition));
    item.insert(
        GSI1.sk.into(),
        string_value(keys::subtenant_name_sort(&subtenant.name.key(), &subtenant.id)),
    );
    item.insert(GSI2.pk.into(), string_value(partition));
    item.insert(GSI2.sk.into(), string_value(subtenant.code.as_str()));
    item.insert(GSI4.pk.into(), string_value(keys::ALL_SUBTENANTS));
    item.insert(
        GSI4.sk.into(),
        string_value(keys::subtenant_created_sort(subtenant.created_at, &subtenant.id)),
    );
    Ok(item)
}

pub fn subtenant_from_item(item: Item) -> Result<Subtenant> {
    let record: SubtenantRecord =
        serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable subtenant item: {e}")))?;
    Subtenant::try_from(record)
}

/// The guard that holds a subtenant code within its tenant.
pub fn subtenant_code_item(tenant_id: &TenantId, code: &SubtenantCode, subtenant_id: &str) -> Item {
    let mut item = with_key(&keys::subtenant_code(tenant_id, code), EntityType::SubtenantCode);
    item.insert(SUBTENANT_ID.into(), string_value(subtenant_id));
    item
}

/// An identity provider, under its tenant (tied to the tenant's incarnation).
pub fn identity_provider_item(idp: &IdentityProvider, incarnation: Timestamp) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(idp).map_err(Error::internal)?;
    item.extend(with_key(
        &keys::identity_provider(&idp.tenant_id, idp.id.as_str()),
        EntityType::IdentityProvider,
    ));
    item.insert(INCARNATION.into(), string_value(incarnation.to_string()));
    Ok(item)
}

pub fn identity_provider_from_item(item: Item) -> Result<IdentityProvider> {
    serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable identity provider item: {e}")))
}

/// A group mapping, under its tenant.
/// `providerCreatedAt` ties it to one incarnation of its provider's id.
pub fn group_mapping_item(mapping: &GroupMapping, incarnation: Timestamp, provider: &IdentityProvider) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(mapping).map_err(Error::internal)?;
    let key = keys::group_mapping(&mapping.tenant_id, mapping.identity_provider_id.as_str(), &mapping.from);
    item.extend(with_key(&key, EntityType::GroupMapping));
    item.insert(INCARNATION.into(), string_value(incarnation.to_string()));
    item.insert(
        PROVIDER_INCARNATION.into(),
        string_value(provider.created_at.to_string()),
    );
    Ok(item)
}

pub fn group_mapping_from_item(item: Item) -> Result<GroupMapping> {
    serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable group mapping item: {e}")))
}

/// The claim of a login domain by one identity provider of one tenant.
pub fn domain_claim_item(domain: &DomainName, idp: &IdentityProvider, incarnation: Timestamp) -> Item {
    let mut item = with_key(&keys::domain_claim(domain.as_str()), EntityType::DomainClaim);
    item.insert(DOMAIN.into(), string_value(domain.as_str()));
    item.insert(TENANT_ID.into(), string_value(idp.tenant_id.as_str()));
    item.insert(IDENTITY_PROVIDER_ID.into(), string_value(idp.id.as_str()));
    item.insert(INCARNATION.into(), string_value(incarnation.to_string()));
    item
}

/// A membership item: under the tenant, and in its user's GSI1 partition.
/// `tenantCreatedAt` ties it to one incarnation of the tenant id.
pub fn member_item(member: &Member, incarnation: Timestamp) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(member).map_err(Error::internal)?;
    item.extend(with_key(
        &keys::member(&member.tenant_id, &member.user_id),
        EntityType::Member,
    ));
    item.insert(GSI1.pk.into(), string_value(keys::memberships_of(&member.user_id)));
    item.insert(GSI1.sk.into(), string_value(keys::membership_sort(&member.tenant_id)));
    item.insert(INCARNATION.into(), string_value(incarnation.to_string()));
    Ok(item)
}

pub fn member_from_item(item: Item) -> Result<Member> {
    serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable member item: {e}")))
}

/// An audit event item of the tenant incarnation created at `incarnation`.
pub fn event_item(event: &AuditEvent, incarnation: Timestamp) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(event).map_err(Error::internal)?;
    item.extend(with_key(
        &keys::event(&event.tenant_id, incarnation, event.version),
        EntityType::Event,
    ));
    Ok(item)
}

pub fn event_from_item(item: Item) -> Result<AuditEvent> {
    serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable event item: {e}")))
}

/// A deployment's metadata, under its tenant incarnation.
pub fn deployment_item(deployment: &Deployment, incarnation: Timestamp) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(deployment).map_err(Error::internal)?;
    item.extend(with_key(
        &keys::deployment(&deployment.tenant_id, deployment.version),
        EntityType::Deployment,
    ));
    item.insert(INCARNATION.into(), string_value(incarnation.to_string()));
    Ok(item)
}

pub fn deployment_from_item(item: Item) -> Result<Deployment> {
    serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable deployment item: {e}")))
}

/// A deployment's bytes (≤ 256 KiB: one item holds them).
pub fn deployment_content_item(deployment: &Deployment, bytes: &[u8], incarnation: Timestamp) -> Item {
    let mut item = with_key(
        &keys::deployment_content(&deployment.tenant_id, deployment.version),
        EntityType::DeploymentContent,
    );
    item.insert(TENANT_ID.into(), string_value(deployment.tenant_id.as_str()));
    item.insert(
        CONTENT.into(),
        AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(bytes)),
    );
    item.insert(INCARNATION.into(), string_value(incarnation.to_string()));
    item
}

/// A clone job.
pub fn job_item(job: &Job) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(job).map_err(Error::internal)?;
    item.extend(with_key(&keys::job(&job.id), EntityType::Job));
    if !job.status.is_final() {
        item.insert(GSI1.pk.into(), string_value(keys::ACTIVE_JOBS));
        item.insert(
            GSI1.sk.into(),
            string_value(keys::job_created_sort(job.created_at, &job.id)),
        );
    }
    Ok(item)
}

pub fn job_from_item(item: Item) -> Result<Job> {
    serde_dynamo::from_item(item).map_err(|e| Error::internal(format!("unreadable job item: {e}")))
}

/// A unit of background work, listed in GSI1's `PENDING` partition.
pub fn pending_item<T: serde::Serialize>(id: &str, at: Timestamp, work: &T) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(work).map_err(Error::internal)?;
    item.extend(with_key(&keys::pending(id), EntityType::Pending));
    item.insert(GSI1.pk.into(), string_value(keys::PENDING_LIST));
    item.insert(GSI1.sk.into(), string_value(keys::pending_sort(at, id)));
    Ok(item)
}

/// A stored answer to a create, replayed for a retry with the same key.
/// The guard of a recorded change event (kept as long as the feed keeps it).
pub fn change_event_guard_item(event_id: &str, expires_at: Timestamp) -> Item {
    let mut item = with_key(&keys::change_event_guard(event_id), EntityType::ChangeEventId);
    item.insert(TTL_ATTRIBUTE.into(), number_value(expires_at.unix_seconds()));
    item
}

/// A change event in the feed: its CloudEvent, its type and subject, and the
/// subject's path (who may see it).
pub fn feed_event_item(
    key: &keys::Key,
    kind: &str,
    subject: &TenantId,
    path: &[TenantId],
    cloud_event: &serde_json::Value,
    expires_at: Timestamp,
) -> Item {
    let mut item = with_key(key, EntityType::ChangeEvent);
    item.insert(TYPE.into(), string_value(kind));
    item.insert(SUBJECT.into(), string_value(subject.as_str()));
    item.insert(
        PATH.into(),
        AttributeValue::L(path.iter().map(|id| string_value(id.as_str())).collect()),
    );
    item.insert(EVENT.into(), string_value(cloud_event.to_string()));
    item.insert(TTL_ATTRIBUTE.into(), number_value(expires_at.unix_seconds()));
    item
}

/// The mark of a day that has events in the feed, kept while they are.
pub fn feed_day_item(day: &str, expires_at: Timestamp) -> Item {
    let mut item = with_key(&keys::feed_day_mark(day), EntityType::FeedDay);
    item.insert(TTL_ATTRIBUTE.into(), number_value(expires_at.unix_seconds()));
    item
}

/// The mark of a gone tenant incarnation.
pub fn tenant_gone_item(id: &TenantId, incarnation: Timestamp, expires_at: Timestamp) -> Item {
    let mut item = with_key(&keys::tenant_gone(id, incarnation), EntityType::TenantGone);
    item.insert(TTL_ATTRIBUTE.into(), number_value(expires_at.unix_seconds()));
    item
}

pub fn idempotency_item(key: &Key, fingerprint: &str, status: u16, body: &str, expires_at: Timestamp) -> Item {
    let mut item = with_key(key, EntityType::Idempotency);
    item.insert(FINGERPRINT.into(), string_value(fingerprint));
    item.insert(STATUS.into(), number_value(status));
    item.insert(BODY.into(), string_value(body));
    item.insert(TTL_ATTRIBUTE.into(), number_value(expires_at.unix_seconds()));
    item
}

/// A string attribute of an item, if present.
pub fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// A numeric attribute of an item, if present and an integer.
pub fn number_attr(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}
