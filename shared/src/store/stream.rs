//! The table's stream, read: one record's old and new images decoded into
//! the typed change they stand for ([`RecordedChange`]). Which change is an
//! event, and which event, is the domain's ([`RecordedChange::event`]).

use super::attributes::{INCARNATION, TARGET_CREATED_AT};
use super::entity::{DecodeError, EntityType, Record};
use super::records::{string_attr, Item};
use crate::domain::events::{RecordedChange, ResourceChange};
use crate::domain::Timestamp;

/// One record of the table's stream, as a stream function receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// The record's `eventID`.
    pub id: String,
    /// The item before the change (`None`: it was created).
    pub old: Option<Item>,
    /// The item after the change (`None`: it was removed).
    pub new: Option<Item>,
    /// The record's approximate creation time.
    pub at: Timestamp,
}

impl StreamRecord {
    /// From the images as Lambda hands them over (an empty one: none).
    pub fn from_images(
        id: impl Into<String>,
        old: &serde_dynamo::Item,
        new: &serde_dynamo::Item,
        at: Timestamp,
    ) -> Self {
        let image = |item: &serde_dynamo::Item| (!item.is_empty()).then(|| Item::from(item.clone()));
        Self {
            id: id.into(),
            old: image(old),
            new: image(new),
            at,
        }
    }

    /// The change of a resource the record stands for; `None` for items
    /// that are no resource (name guards, facets, history, idempotency
    /// records, pending work, …) or whose images do not decode.
    pub fn decode(&self) -> Option<RecordedChange> {
        Some(RecordedChange {
            id: self.id.clone(),
            at: self.at,
            change: resource_change(self.old.as_ref(), self.new.as_ref())?,
            incarnation: self.incarnation(),
        })
    }

    /// The `createdAt` of the tenant incarnation the record's item belongs
    /// to: `tenantCreatedAt` (members, identity providers, deployments) or,
    /// for a clone job (whose event is about its new tenant),
    /// `targetCreatedAt`.
    fn incarnation(&self) -> Option<Timestamp> {
        [&self.new, &self.old].into_iter().flatten().find_map(|item| {
            [INCARNATION, TARGET_CREATED_AT]
                .into_iter()
                .find_map(|name| string_attr(item, name).and_then(Timestamp::parse))
        })
    }
}

/// The resource change of an item's images, if they are a resource's.
fn resource_change(old: Option<&Item>, new: Option<&Item>) -> Option<ResourceChange> {
    /// The kind of an image: `Ok(None)` for no image or one without a
    /// kind, `Err` for a kind this build does not know.
    fn kind_of(item: Option<&Item>) -> Result<Option<EntityType>, ()> {
        match item.map(EntityType::of) {
            None | Some(Err(DecodeError::Untyped)) => Ok(None),
            Some(Ok(kind)) => Ok(Some(kind)),
            Some(Err(_)) => Err(()),
        }
    }
    let entity = match (kind_of(old), kind_of(new)) {
        (Ok(Some(EntityType::Tenant)), _) | (_, Ok(Some(EntityType::Tenant))) => EntityType::Tenant,
        (entity, Ok(None)) | (_, entity) => entity.ok()??,
    };
    match entity {
        EntityType::Tenant => {
            let decode_tenant = |item: Option<&Item>| match item.map(Record::decode) {
                Some(Ok(Record::Tenant(tenant))) => Some(tenant),
                _ => None,
            };
            Some(ResourceChange::Tenant {
                before: decode_tenant(old),
                after: decode_tenant(new),
                purged: kind_of(new) == Ok(Some(EntityType::Tombstone)),
            })
        }
        EntityType::Subtenant => {
            let (before, after) = decode(old, new, |record| match record {
                Record::Subtenant(subtenant) => Some(*subtenant),
                _ => None,
            })?;
            Some(ResourceChange::Subtenant { before, after })
        }
        EntityType::IdentityProvider => {
            let (before, after) = decode(old, new, |record| match record {
                Record::IdentityProvider { provider, .. } => Some(*provider),
                _ => None,
            })?;
            Some(ResourceChange::IdentityProvider { before, after })
        }
        EntityType::Member => {
            let (before, after) = decode(old, new, |record| match record {
                Record::Member { member, .. } => Some(*member),
                _ => None,
            })?;
            Some(ResourceChange::Member { before, after })
        }
        EntityType::Deployment if old.is_none() => match Record::decode(new?).ok()? {
            Record::Deployment { deployment, .. } => Some(ResourceChange::DeploymentCreated(*deployment)),
            _ => None,
        },
        EntityType::Job => match (Record::decode(old?).ok()?, Record::decode(new?).ok()?) {
            (Record::Job(before), Record::Job(after)) => Some(ResourceChange::Job {
                before: *before,
                after: *after,
            }),
            _ => None,
        },
        // Changes of these are no resource's: the store's own items (guards,
        // facets, marks, history, the feed), or what has no event of its
        // own (a deployment's bytes; a deployment is only ever created).
        EntityType::Deployment
        | EntityType::Tombstone
        | EntityType::PurgedName
        | EntityType::TenantName
        | EntityType::Facet
        | EntityType::SubtenantCode
        | EntityType::GroupMapping
        | EntityType::DomainClaim
        | EntityType::Event
        | EntityType::DeploymentContent
        | EntityType::Pending
        | EntityType::ChangeEventId
        | EntityType::ChangeEvent
        | EntityType::FeedDay
        | EntityType::TenantGone
        | EntityType::Idempotency => None,
    }
}

/// Both images read as records of one kind (absent ones as `None`); `None`
/// if one is not of that kind or does not decode.
fn decode<T>(old: Option<&Item>, new: Option<&Item>, pick: fn(Record) -> Option<T>) -> Option<(Option<T>, Option<T>)> {
    let read = |item: Option<&Item>| match item {
        Some(item) => Record::decode(item).ok().and_then(pick).map(Some),
        None => Some(None),
    };
    Some((read(old)?, read(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::AuditEvent;
    use crate::domain::events::ChangeEvent;
    use crate::domain::tenant::{InputMode, Stamp, Status};
    use crate::domain::{Tenant, TenantId, TenantInput};
    use crate::store::records;
    use serde_json::json;

    /// The event of a record with these images, if any.
    pub(super) fn derive(id: &str, old: Option<&Item>, new: Option<&Item>, at: Timestamp) -> Option<ChangeEvent> {
        let record = StreamRecord {
            id: id.into(),
            old: old.cloned(),
            new: new.cloned(),
            at,
        };
        record.decode()?.event()
    }

    fn change() -> Stamp {
        Stamp {
            actor: "alice".into(),
            at: Timestamp::now(),
        }
    }

    fn tenant(id: &str) -> Tenant {
        let body = json!({"tenantId": id, "name": format!("Name {id}"), "tags": ["gold"]});
        let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
        Tenant::create(input, TenantId::parse(id).unwrap(), &change())
    }

    fn item(t: &Tenant) -> Item {
        records::tenant_item(t, 1).unwrap()
    }

    /// A later version of `t` with `edit` applied.
    fn next(t: &Tenant, edit: impl FnOnce(&mut Tenant)) -> Tenant {
        let mut n = t.clone();
        n.version += 1;
        edit(&mut n);
        n
    }

    fn kind(old: Option<&Tenant>, new: Option<&Tenant>) -> Option<String> {
        let (old, new) = (old.map(item), new.map(item));
        derive("r1", old.as_ref(), new.as_ref(), Timestamp::now()).map(|e| e.kind.as_str().to_owned())
    }

    #[test]
    fn a_new_tenant_is_created_as_a_cloud_event_with_the_records_id() {
        let t = tenant("acme");
        let event = derive("record-7", None, Some(&item(&t)), Timestamp::now()).unwrap();
        let cloud = event.cloud_event();
        assert_eq!(cloud["specversion"], "1.0");
        assert_eq!(cloud["id"], "record-7");
        assert_eq!(cloud["type"], "io.tenancy.tenant.created");
        assert_eq!(cloud["subject"], "acme");
        assert_eq!(cloud["data"]["tenant"]["name"], "Name acme");
        assert_eq!(event.path, Some(vec![t.id.clone()]));
        // The same record, delivered again, is the same event.
        assert_eq!(derive("record-7", None, Some(&item(&t)), event.time), Some(event));
    }

    #[test]
    fn each_kind_of_tenant_change_has_its_type() {
        let t = tenant("acme");
        let renamed = next(&t, |n| n.description = Some("new".into()));
        assert_eq!(kind(Some(&t), Some(&renamed)).as_deref(), Some("tenant.updated"));
        let inactive = next(&t, |n| n.status = Status::Inactive);
        assert_eq!(kind(Some(&t), Some(&inactive)).as_deref(), Some("tenant.deactivated"));
        assert_eq!(kind(Some(&inactive), Some(&t)).as_deref(), Some("tenant.activated"));
        let retired = t.retired(None, &change()).unwrap();
        assert_eq!(kind(Some(&t), Some(&retired)).as_deref(), Some("tenant.retired"));
        let restored = retired.restored(&change()).unwrap();
        assert_eq!(
            kind(Some(&retired), Some(&restored)).as_deref(),
            Some("tenant.restored")
        );
        let parent = tenant("parent");
        let moved = next(&t, |n| *n = n.placed(Some(&parent)));
        assert_eq!(kind(Some(&t), Some(&moved)).as_deref(), Some("tenant.moved"));
        assert_eq!(kind(Some(&t), None).as_deref(), Some("tenant.deleted"));
        let tombstone = records::tombstone_item(&retired, Timestamp::now(), Timestamp::now());
        let purged = derive("r", Some(&item(&retired)), Some(&tombstone), Timestamp::now()).unwrap();
        assert_eq!(purged.kind, "tenant.purged");
    }

    #[test]
    fn what_the_store_keeps_up_by_itself_is_no_event() {
        let t = tenant("acme");
        let counted = next(&t, |n| (n.child_count, n.subtenant_count) = (3, 2));
        assert_eq!(kind(Some(&t), Some(&counted)), None);
        let repathed = next(&t, |n| {
            n.path = vec![TenantId::parse("root").unwrap(), n.id.clone()];
            n.depth = 1;
            n.parent_name = Some("Root".into());
        });
        assert_eq!(
            kind(Some(&t), Some(&repathed)),
            None,
            "a descendant carried along by a move"
        );
        let mut provisioning = tenant("clone");
        provisioning.status = Status::Provisioning;
        assert_eq!(
            kind(None, Some(&provisioning)),
            None,
            "a clone is created when its job succeeds"
        );
        let ready = next(&provisioning, |n| n.status = Status::Active);
        assert_eq!(
            kind(Some(&provisioning), Some(&ready)).as_deref(),
            Some("tenant.created")
        );
    }

    #[test]
    fn internal_items_are_no_event() {
        let t = tenant("acme");
        let guard = records::name_guard_item("name acme", &t.id);
        assert_eq!(derive("r", None, Some(&guard), Timestamp::now()), None);
        for (_, facet) in records::facet_items(&t, 1) {
            assert_eq!(derive("r", None, Some(&facet), Timestamp::now()), None);
        }
        let history = records::event_item(&AuditEvent::of(None, &t), t.created_at).unwrap();
        assert_eq!(derive("r", None, Some(&history), Timestamp::now()), None);
    }

    #[test]
    fn members_come_and_go() {
        let member = crate::domain::member::Member {
            tenant_id: TenantId::parse("acme").unwrap(),
            user_id: crate::domain::UserId::parse("bob").unwrap(),
            role: crate::auth::TenantRole::Viewer,
            added_at: Timestamp::now(),
            added_by: "alice".into(),
        };
        let incarnation = member.added_at.plus(time::Duration::days(-3));
        let stored = records::member_item(&member, incarnation).unwrap();
        let added = derive("r", None, Some(&stored), Timestamp::now()).unwrap();
        assert_eq!((added.kind.as_str(), added.subject.as_str()), ("member.added", "acme"));
        assert_eq!(added.data["member"]["userId"], "bob");
        let promoted = crate::domain::member::Member {
            role: crate::auth::TenantRole::Admin,
            ..member.clone()
        };
        let promoted = records::member_item(&promoted, incarnation).unwrap();
        let updated = derive("r", Some(&stored), Some(&promoted), Timestamp::now()).unwrap();
        assert_eq!(updated.kind, "member.updated");
        assert_eq!(
            updated.data["changes"]["role"],
            json!({"before": "viewer", "after": "admin"})
        );
        assert_eq!(
            derive("r", Some(&stored), None, Timestamp::now()).unwrap().kind,
            "member.removed"
        );
        // The creator's membership, written with the tenant at its very time.
        let creators = records::member_item(&member, member.added_at).unwrap();
        assert_eq!(derive("r", None, Some(&creators), Timestamp::now()), None);
    }
}

/// Issue 17, item 10: events stay far below EventBridge's 256 KB entry limit.
#[cfg(test)]
mod bounded_payload {
    use super::tests::derive;
    use super::*;
    use crate::domain::events::{ChangeEvent, MAX_EVENT_BYTES};
    use crate::domain::identity_provider::{IdentityProvider, IdpId, IdpKind};
    use crate::domain::tenant::{InputMode, Stamp};
    use crate::domain::{Tenant, TenantId, TenantInput};
    use crate::store::records;
    use serde_json::{json, Value};

    fn provider(xml: &str, version: u64) -> IdentityProvider {
        let at = Timestamp::now();
        IdentityProvider {
            id: IdpId::parse("corp-saml").unwrap(),
            tenant_id: TenantId::parse("acme").unwrap(),
            kind: IdpKind::Saml,
            issuer: None,
            client_id: None,
            scopes: Vec::new(),
            metadata_url: None,
            metadata_xml: Some(xml.to_owned()),
            entity_id: Some("urn:acme".into()),
            enabled: true,
            domains: Vec::new(),
            created_at: at,
            created_by: "alice".into(),
            updated_at: at,
            updated_by: "alice".into(),
            version,
        }
    }

    fn size(event: &ChangeEvent) -> usize {
        event.cloud_event().to_string().len()
    }

    fn sha256(bytes: &[u8]) -> String {
        crate::domain::deployment::sha256_hex(bytes)
    }

    #[test]
    fn a_huge_metadata_xml_change_is_a_small_event_with_references_and_digests() {
        let old_xml = format!("<md:EntityDescriptor>{}</md:EntityDescriptor>", "\"a\"".repeat(34_000));
        let new_xml = format!("<md:EntityDescriptor>{}</md:EntityDescriptor>", "\"b\"".repeat(34_000));
        assert!(new_xml.len() > 100_000);
        let incarnation = Timestamp::now();
        let before = records::identity_provider_item(&provider(&old_xml, 1), incarnation).unwrap();
        let after = records::identity_provider_item(&provider(&new_xml, 2), incarnation).unwrap();
        let event = derive("r1", Some(&before), Some(&after), Timestamp::now()).unwrap();
        assert_eq!(event.kind, "identity_provider.updated");
        assert!(size(&event) <= MAX_EVENT_BYTES, "{} bytes", size(&event));
        let href = "/v1/tenants/acme/identity-providers/corp-saml";
        let reference =
            |xml: &str| json!({"omitted": true, "bytes": xml.len(), "sha256": sha256(xml.as_bytes()), "href": href});
        assert_eq!(event.data["identityProvider"]["metadataXml"], reference(&new_xml));
        assert_eq!(event.data["changes"]["metadataXml"]["before"], reference(&old_xml));
        assert_eq!(event.data["changes"]["metadataXml"]["after"], reference(&new_xml));
        // What is small stays as it was.
        assert_eq!(event.data["identityProvider"]["entityId"], "urn:acme");
        assert!(event.data["identityProvider"]["createdAt"].is_string());
    }

    /// 50 metadata keys and values at their longest, in 4-byte characters
    /// (about 230 KB of metadata, three times over in an update's view and
    /// changes).
    #[test]
    fn a_tenant_with_every_field_at_its_longest_is_a_bounded_event() {
        let wide = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
        let metadata: serde_json::Map<String, Value> = (0..50)
            .map(|i| (format!("{i:02}{}", wide(126, '𝄞')), json!(wide(1024, '😀'))))
            .collect();
        let body = json!({"tenantId": "acme", "name": "Acme", "description": wide(1024, '𝄞'), "metadata": metadata});
        let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
        let change = Stamp {
            actor: "alice".into(),
            at: Timestamp::now(),
        };
        let tenant = Tenant::create(input, TenantId::parse("acme").unwrap(), &change);
        let created = derive(
            "r1",
            None,
            Some(&records::tenant_item(&tenant, 1).unwrap()),
            Timestamp::now(),
        )
        .unwrap();
        assert!(size(&created) <= MAX_EVENT_BYTES, "created: {} bytes", size(&created));
        assert_eq!(created.data["tenant"]["metadata"]["omitted"], true);
        assert_eq!(created.data["tenant"]["metadata"]["href"], "/v1/tenants/acme");
        assert_eq!(created.data["tenant"]["name"], "Acme");
        assert_eq!(created.data["tenant"]["createdAt"], json!(tenant.created_at));

        let mut changed = tenant.clone();
        changed.version += 1;
        changed.metadata = changed.metadata.into_keys().map(|k| (k, wide(1024, '😎'))).collect();
        changed.description = Some(wide(1024, '😎'));
        let (old, new) = (
            records::tenant_item(&tenant, 1).unwrap(),
            records::tenant_item(&changed, 1).unwrap(),
        );
        let updated = derive("r2", Some(&old), Some(&new), Timestamp::now()).unwrap();
        assert_eq!(updated.kind, "tenant.updated");
        assert!(size(&updated) <= MAX_EVENT_BYTES, "updated: {} bytes", size(&updated));
        let before = &updated.data["changes"]["metadata"]["before"];
        let after = &updated.data["changes"]["metadata"]["after"];
        assert_eq!(
            (before["omitted"].clone(), after["omitted"].clone()),
            (json!(true), json!(true))
        );
        assert_ne!(before["sha256"], after["sha256"], "the digests tell the change");
    }
}
