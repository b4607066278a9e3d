//! Change events: what a change in the table means to the world outside, as
//! CloudEvents 1.0. Derived from one stream record alone (its old and new
//! images), so the same record always yields the same event, id included,
//! however often it is delivered.
//!
//! - tenants: `tenant.created|updated|moved|activated|deactivated|retired|
//!   restored|deleted|purged`; what the store changes by itself (child and
//!   subtenant counts, paths and parent names that follow a move or a rename,
//!   the lists of identity providers and deployments) is no event: the change
//!   that caused it has its own;
//! - `subtenant.created|updated|deleted`, `identity_provider.created|updated|
//!   deleted`, `member.added|updated|removed`, `deployment.created` (the
//!   creator's membership, written with the tenant, is part of
//!   `tenant.created`; what goes with a deleted or purged tenant is part of
//!   its `tenant.deleted` or `tenant.purged`: see the notifier);
//! - `clone.succeeded|failed` when a clone job finishes;
//! - name guards, facets, history, idempotency records, pending work and the
//!   like: nothing.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::domain::audit::{field_changes, Action, AuditEvent, FieldChange};
use crate::domain::deployment::JobStatus;
use crate::domain::tenant::Status;
use crate::domain::{Tenant, TenantId, Timestamp};
use crate::store::records::{self, string_attr, Item, ENTITY_TYPE};

/// The CloudEvents `source` of every event.
pub const SOURCE: &str = "/tenancy";
/// The prefix of every CloudEvents `type`: `io.tenancy.tenant.created`.
pub const TYPE_PREFIX: &str = "io.tenancy.";

/// Every event type (without [`TYPE_PREFIX`]).
pub const KINDS: &[&str] = &[
    "tenant.created",
    "tenant.updated",
    "tenant.moved",
    "tenant.activated",
    "tenant.deactivated",
    "tenant.retired",
    "tenant.restored",
    "tenant.deleted",
    "tenant.purged",
    "subtenant.created",
    "subtenant.updated",
    "subtenant.deleted",
    "identity_provider.created",
    "identity_provider.updated",
    "identity_provider.deleted",
    "member.added",
    "member.updated",
    "member.removed",
    "deployment.created",
    "clone.succeeded",
    "clone.failed",
];

/// A filter of event types: `tenant.created`, or all of a resource's with
/// `tenant.*` (the `io.tenancy.` prefix may be given or not).
pub fn parse_type_filter(raw: &str) -> Result<String, String> {
    let kind = raw.trim().trim_start_matches(TYPE_PREFIX);
    let known = KINDS.contains(&kind)
        || kind
            .strip_suffix(".*")
            .is_some_and(|resource| KINDS.iter().any(|k| k.split('.').next() == Some(resource)));
    if known {
        Ok(kind.to_owned())
    } else {
        Err(format!("'{raw}' is not an event type (e.g. tenant.created, member.*)"))
    }
}

/// Whether `kind` passes `filters` (none: everything does).
pub fn type_matches(filters: &[String], kind: &str) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| match f.strip_suffix(".*") {
            Some(resource) => kind.split('.').next() == Some(resource),
            None => f == kind,
        })
}

/// A page of the events feed as `caller` may see it: a platform admin sees
/// every event; anyone else the events of the tenants it is a member of and
/// of their descendants (what it may read), among `types`.
///
/// Visibility follows the incarnation, not the id alone: an event shows
/// through a membership's tenant only if that tenant was on the event's path
/// when the path held, i.e. it was born no later than that. A tenant id
/// deleted and created again (by another customer, say) shows its new
/// members nothing of the earlier tenant's events, nor of its subtree's.
pub async fn feed(
    store: &crate::store::Store,
    caller: &crate::auth::Caller,
    from: Option<&crate::store::feed::FeedPosition>,
    limit: usize,
    types: &[String],
) -> crate::error::Result<crate::store::feed::FeedPage> {
    let roots = super::access::roots(store, caller).await?;
    let visible = |e: &crate::store::feed::FeedEvent| match &roots {
        None => true,
        Some(roots) => {
            let held_at = e.path_held_at();
            roots
                .iter()
                .any(|r| e.path.iter().any(|id| id == r.id.as_str()) && held_at.is_some_and(|at| at >= r.created_at))
        }
    };
    store
        .feed_page(from, Timestamp::now(), limit, |e| {
            type_matches(types, &e.kind) && visible(e)
        })
        .await
}

/// The largest JSON a field of an event's `data` keeps (a field of the
/// resource, or a change's `before` or `after`); a larger one is replaced by
/// a [reference](omitted).
pub const MAX_FIELD_BYTES: usize = 8 * 1024;
/// The largest CloudEvent (its JSON): well under EventBridge's 256 KB entry
/// and DynamoDB's 400 KB item (the feed), whatever the resource holds.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// What stands for a value left out of an event: its size and digest (of
/// the string's UTF-8 bytes, or of the value's compact JSON), and where the
/// resource is read whole.
fn omitted(value: &Value, href: &str) -> Value {
    let mut reference = crate::domain::audit::omitted(value);
    reference["href"] = json!(href);
    reference
}

/// The API path of the resource `data` is about (`{"<resource>": …, "changes": …}`).
fn href(data: &Value) -> String {
    fn segment(value: &Value) -> String {
        let raw = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        raw.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    let Some((name, view)) = data.as_object().and_then(|o| o.iter().find(|(k, _)| *k != "changes")) else {
        return "/v1/events".into();
    };
    let tenant = segment(&view["tenantId"]);
    match name.as_str() {
        "tenant" => format!("/v1/tenants/{}", segment(&view["id"])),
        "subtenant" => format!("/v1/tenants/{tenant}/subtenants/{}", segment(&view["id"])),
        "identityProvider" => format!("/v1/tenants/{tenant}/identity-providers/{}", segment(&view["id"])),
        "member" => format!("/v1/tenants/{tenant}/members/{}", segment(&view["userId"])),
        "deployment" => format!("/v1/tenants/{tenant}/deployments/{}", segment(&view["version"])),
        "job" => format!("/v1/jobs/{}", segment(&view["id"])),
        _ => "/v1/events".into(),
    }
}

/// `event` with a bounded payload: every field over [`MAX_FIELD_BYTES`] is
/// replaced by a reference, then, while the event is over
/// [`MAX_EVENT_BYTES`], the largest field left; `data` as a whole if even
/// that is not enough. What identifies the resource (`id`, `createdAt`, …)
/// is small, so it stays.
fn bounded(mut event: ChangeEvent) -> ChangeEvent {
    fn pointer_segment(key: &str) -> String {
        key.replace('~', "~0").replace('/', "~1")
    }
    let href = href(&event.data);
    // Every field: (JSON pointer, size of its JSON).
    let mut fields: Vec<(String, usize)> = Vec::new();
    if let Some(data) = event.data.as_object() {
        for (name, value) in data {
            let at = format!("/{}", pointer_segment(name));
            match (name.as_str(), value) {
                ("changes", Value::Object(changes)) => {
                    for (field, change) in changes {
                        for side in ["before", "after"] {
                            if let Some(v) = change.get(side) {
                                let pointer = format!("{at}/{}/{side}", pointer_segment(field));
                                fields.push((pointer, v.to_string().len()));
                            }
                        }
                    }
                }
                (_, Value::Object(resource)) => {
                    for (field, v) in resource {
                        fields.push((format!("{at}/{}", pointer_segment(field)), v.to_string().len()));
                    }
                }
                _ => fields.push((at, value.to_string().len())),
            }
        }
    }
    fields.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
    let mut total = event.cloud_event().to_string().len();
    let reference_bytes = omitted(&Value::Null, &href).to_string().len();
    for (pointer, bytes) in &fields {
        if *bytes <= reference_bytes || (*bytes <= MAX_FIELD_BYTES && total <= MAX_EVENT_BYTES) {
            continue;
        }
        if let Some(value) = event.data.pointer_mut(pointer) {
            *value = omitted(value, &href);
            total = total - bytes + reference_bytes;
        }
    }
    if event.cloud_event().to_string().len() > MAX_EVENT_BYTES {
        event.data = omitted(&event.data, &href);
    }
    debug_assert!(event.cloud_event().to_string().len() <= MAX_EVENT_BYTES);
    event
}

/// One domain event.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    /// The stream record's id: a redelivered record gives the same event.
    pub id: String,
    /// `tenant.created`, `subtenant.deleted`, …
    pub kind: String,
    /// The tenant it is about.
    pub subject: TenantId,
    /// The tenant's path (root first), when the images tell it: who may see
    /// the event. `None`: the caller looks the tenant up.
    pub path: Option<Vec<TenantId>>,
    pub time: Timestamp,
    /// The resource after the change (before it, for a removal) and the
    /// fields that changed.
    pub data: Value,
}

impl ChangeEvent {
    /// The CloudEvents 1.0 JSON (structured mode).
    pub fn cloud_event(&self) -> Value {
        json!({
            "specversion": "1.0",
            "id": self.id,
            "source": SOURCE,
            "type": format!("{TYPE_PREFIX}{}", self.kind),
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
            "data": self.data,
        })
    }
}

/// Tenant fields the store keeps up by itself, as a consequence of another
/// change that has its own event.
const DERIVED: &[&str] = &[
    "path",
    "depth",
    "parentName",
    "identityProviderIds",
    "configurationVersion",
    "configurationSha256",
];
/// Fields every change of any resource touches.
const STAMPS: &[&str] = &["version", "updatedAt", "updatedBy"];

/// The event a stream record stands for, if any. `record_id` is the
/// record's `eventID`; `at` its approximate creation time (used when the
/// images carry no time of their own).
pub fn derive(record_id: &str, old: Option<&Item>, new: Option<&Item>, at: Timestamp) -> Option<ChangeEvent> {
    fn kind_of(item: Option<&Item>) -> &str {
        item.and_then(|i| string_attr(i, ENTITY_TYPE)).unwrap_or("")
    }
    let event = |kind: &str, subject: TenantId, path: Option<Vec<TenantId>>, time: Timestamp, data: Value| {
        Some(bounded(ChangeEvent {
            id: record_id.to_owned(),
            kind: kind.to_owned(),
            subject,
            path,
            time,
            data,
        }))
    };
    let entity = match (kind_of(old), kind_of(new)) {
        ("tenant", _) | (_, "tenant") => "tenant",
        (entity, "") | (_, entity) => entity,
    };
    match entity {
        "tenant" => tenant_event(old, new, at).and_then(|(kind, tenant, time, data)| {
            event(kind, tenant.id.clone(), Some(tenant.path.clone()), time, data)
        }),
        "subtenant" => {
            let (before, after) = decode(old, new, records::subtenant_from_item)?;
            let subject = after.as_ref().or(before.as_ref())?.tenant_id.clone();
            let kind = lifecycle("subtenant", &before, &after, ["created", "updated", "deleted"])?;
            let time = after.as_ref().map_or(at, |s| s.updated_at);
            event(&kind, subject, None, time, resource_data("subtenant", &before, &after)?)
        }
        "identityProvider" => {
            let (before, after) = decode(old, new, records::identity_provider_from_item)?;
            let subject = after.as_ref().or(before.as_ref())?.tenant_id.clone();
            let kind = lifecycle("identity_provider", &before, &after, ["created", "updated", "deleted"])?;
            event(
                &kind,
                subject,
                None,
                at,
                resource_data("identityProvider", &before, &after)?,
            )
        }
        "member" => {
            let (before, after) = decode(old, new, records::member_from_item)?;
            // The creator's membership, written with the tenant (at its very
            // time): part of `tenant.created`.
            if let (None, Some(added)) = (&before, &after) {
                let incarnation = new.and_then(|i| string_attr(i, records::INCARNATION));
                if incarnation == Some(added.added_at.to_string().as_str()) {
                    return None;
                }
            }
            let subject = after.as_ref().or(before.as_ref())?.tenant_id.clone();
            let kind = lifecycle("member", &before, &after, ["added", "updated", "removed"])?;
            event(&kind, subject, None, at, resource_data("member", &before, &after)?)
        }
        "deployment" if old.is_none() => {
            let deployment = records::deployment_from_item(new?.clone()).ok()?;
            let data = json!({ "deployment": deployment });
            event(
                "deployment.created",
                deployment.tenant_id.clone(),
                None,
                deployment.created_at,
                data,
            )
        }
        "job" => {
            let before = records::job_from_item(old?.clone()).ok()?;
            let after = records::job_from_item(new?.clone()).ok()?;
            let kind = match (before.status, after.status) {
                (JobStatus::Queued | JobStatus::Running, JobStatus::Succeeded) => "clone.succeeded",
                (JobStatus::Queued | JobStatus::Running, JobStatus::Failed) => "clone.failed",
                _ => return None,
            };
            let time = after.finished_at.unwrap_or(after.updated_at);
            event(
                kind,
                after.target_tenant_id.clone(),
                None,
                time,
                json!({ "job": after }),
            )
        }
        _ => None,
    }
}

/// Both images decoded (absent ones as `None`); `None` if one does not decode.
fn decode<T>(
    old: Option<&Item>,
    new: Option<&Item>,
    from: fn(Item) -> crate::error::Result<T>,
) -> Option<(Option<T>, Option<T>)> {
    let before = match old {
        Some(item) => Some(from(item.clone()).ok()?),
        None => None,
    };
    let after = match new {
        Some(item) => Some(from(item.clone()).ok()?),
        None => None,
    };
    Some((before, after))
}

/// `kind.created` / `kind.updated` (if some public field changed) /
/// `kind.deleted`, with the verbs given.
fn lifecycle<T: serde::Serialize>(
    kind: &str,
    before: &Option<T>,
    after: &Option<T>,
    [created, updated, deleted]: [&str; 3],
) -> Option<String> {
    let verb = match (before, after) {
        (None, Some(_)) => created,
        (Some(_), None) => deleted,
        (Some(b), Some(a)) if !changes(b, a, &[]).is_empty() => updated,
        _ => return None,
    };
    Some(format!("{kind}.{verb}"))
}

/// `{"<name>": the resource after (before, for a removal), "changes": …}`.
fn resource_data<T: serde::Serialize>(name: &str, before: &Option<T>, after: &Option<T>) -> Option<Value> {
    let view = serde_json::to_value(after.as_ref().or(before.as_ref())?).ok()?;
    let changed = match (before, after) {
        (Some(b), Some(a)) => changes(b, a, &[]),
        _ => BTreeMap::new(),
    };
    Some(json!({ name: view, "changes": changed }))
}

/// The public fields that differ, but for the stamps and `skip`.
fn changes<T: serde::Serialize>(before: &T, after: &T, skip: &[&str]) -> BTreeMap<String, FieldChange> {
    let skip: Vec<&str> = STAMPS.iter().chain(skip).copied().collect();
    field_changes(Some(before), after, &skip)
}

/// (kind, the tenant it is about, time, data) of a tenant item's change.
fn tenant_event(
    old: Option<&Item>,
    new: Option<&Item>,
    at: Timestamp,
) -> Option<(&'static str, Tenant, Timestamp, Value)> {
    let decode_tenant = |item: Option<&Item>| {
        item.filter(|i| string_attr(i, ENTITY_TYPE) == Some("tenant"))
            .and_then(|i| records::tenant_from_item(i.clone()).ok())
    };
    let before = decode_tenant(old);
    let after = decode_tenant(new);
    let purged = new.is_some_and(|i| string_attr(i, ENTITY_TYPE) == Some("tombstone"));
    match (before, after) {
        (None, Some(after)) if after.status == Status::Provisioning => None,
        (None, Some(after)) => {
            let data = json!({ "tenant": after, "changes": {} });
            Some(("tenant.created", after.clone(), after.created_at, data))
        }
        (Some(before), None) if before.status == Status::Provisioning => None,
        (Some(before), None) => {
            let kind = if purged { "tenant.purged" } else { "tenant.deleted" };
            let data = json!({ "tenant": before, "changes": {} });
            Some((kind, before, at, data))
        }
        (Some(before), Some(after))
            if before.status == Status::Provisioning && after.status != Status::Provisioning =>
        {
            let data = json!({ "tenant": after, "changes": {} });
            Some(("tenant.created", after.clone(), after.updated_at, data))
        }
        (Some(before), Some(after)) => {
            let mut skip = DERIVED.to_vec();
            skip.extend(["childCount", "subtenantCount"]);
            let changed = changes(&before, &after, &skip);
            if changed.is_empty() {
                return None;
            }
            let kind = match AuditEvent::of(Some(&before), &after).action {
                Action::Retired => "tenant.retired",
                Action::Restored => "tenant.restored",
                Action::Moved => "tenant.moved",
                Action::Created => "tenant.created",
                Action::Updated => match (before.status, after.status) {
                    (Status::Active, Status::Inactive) => "tenant.deactivated",
                    (Status::Inactive, Status::Active) => "tenant.activated",
                    _ => "tenant.updated",
                },
            };
            let data = json!({ "tenant": after, "changes": changed });
            Some((kind, after.clone(), after.updated_at, data))
        }
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tenant::{Change, InputMode};
    use crate::domain::TenantInput;

    fn change() -> Change {
        Change {
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
        derive("r1", old.as_ref(), new.as_ref(), Timestamp::now()).map(|e| e.kind)
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
    use super::*;
    use crate::domain::identity_provider::{IdentityProvider, IdpId, IdpKind};
    use crate::domain::tenant::{Change, InputMode};
    use crate::domain::TenantInput;

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
        let change = Change {
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

    #[test]
    fn an_event_whose_small_fields_add_up_is_still_bounded() {
        // Many fields each under the field limit: the largest go first.
        let mut event = ChangeEvent {
            id: "r".into(),
            kind: "tenant.updated".into(),
            subject: TenantId::parse("acme").unwrap(),
            path: None,
            time: Timestamp::now(),
            data: json!({"tenant": {"id": "acme"}, "changes": {}}),
        };
        for i in 0..40 {
            event.data["tenant"][format!("f{i}")] = json!("x".repeat(7_000 + i));
            event.data["changes"][format!("f{i}")] =
                json!({"before": "y".repeat(7_000), "after": "x".repeat(7_000 + i)});
        }
        let event = bounded(event);
        assert!(size(&event) <= MAX_EVENT_BYTES, "{} bytes", size(&event));
        assert_eq!(event.data["tenant"]["id"], "acme", "small fields stay");
        assert_eq!(event.data["tenant"]["f39"]["omitted"], true, "the largest goes first");
    }
}
