//! Change events: what a change of a stored resource means to the world
//! outside, as CloudEvents 1.0. Derived from one [`RecordedChange`] alone
//! (the resource before and after, as one record of the table's stream
//! tells it; `store::stream` decodes it), so the same record always yields
//! the same event, id included, however often it is delivered.
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
//!   its `tenant.deleted` or `tenant.purged`: see `service::notify`);
//! - `clone.succeeded|failed` when a clone job finishes;
//! - name guards, facets, history, idempotency records, pending work and the
//!   like: nothing (they decode to no [`ResourceChange`]).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Value};

use crate::domain::audit::{field_changes, Action, AuditEvent, FieldChange};
use crate::domain::deployment::{Deployment, Job, JobStatus};
use crate::domain::identity_provider::IdentityProvider;
use crate::domain::member::Member;
use crate::domain::subtenant::Subtenant;
use crate::domain::tenant::Status;
use crate::domain::{Tenant, TenantId, Timestamp};

/// The CloudEvents `source` of every event.
pub const SOURCE: &str = "/tenancy";
/// The prefix of every CloudEvents `type`: `io.tenancy.tenant.created`.
pub const TYPE_PREFIX: &str = "io.tenancy.";

/// Declares [`EventKind`]: each kind with its wire name (the CloudEvents
/// `type` without [`TYPE_PREFIX`]).
macro_rules! kinds {
    ($($variant:ident = $wire:literal,)*) => {
        /// What a change event says happened. The wire names never change:
        /// consumers filter on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            /// Every kind, in the documented order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The wire name: `tenant.created`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $wire,)*
                }
            }
        }
    };
}

kinds! {
    TenantCreated = "tenant.created",
    TenantUpdated = "tenant.updated",
    TenantMoved = "tenant.moved",
    TenantActivated = "tenant.activated",
    TenantDeactivated = "tenant.deactivated",
    TenantRetired = "tenant.retired",
    TenantRestored = "tenant.restored",
    TenantDeleted = "tenant.deleted",
    TenantPurged = "tenant.purged",
    SubtenantCreated = "subtenant.created",
    SubtenantUpdated = "subtenant.updated",
    SubtenantDeleted = "subtenant.deleted",
    IdentityProviderCreated = "identity_provider.created",
    IdentityProviderUpdated = "identity_provider.updated",
    IdentityProviderDeleted = "identity_provider.deleted",
    MemberAdded = "member.added",
    MemberUpdated = "member.updated",
    MemberRemoved = "member.removed",
    DeploymentCreated = "deployment.created",
    CloneSucceeded = "clone.succeeded",
    CloneFailed = "clone.failed",
}

impl EventKind {
    /// The kind of wire name `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }

    /// The resource it is about: `tenant`, `member`, … (the name's first part).
    pub fn resource(self) -> &'static str {
        let name = self.as_str();
        name.split_once('.').map_or(name, |(resource, _)| resource)
    }

    /// Whether the tenant itself went (deleted or purged).
    pub fn is_tenant_gone(self) -> bool {
        matches!(self, Self::TenantDeleted | Self::TenantPurged)
    }

    /// Whether it removes something that lives under a tenant (not the
    /// tenant itself).
    pub fn is_removal_under_tenant(self) -> bool {
        matches!(
            self,
            Self::SubtenantDeleted | Self::IdentityProviderDeleted | Self::MemberRemoved
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for EventKind {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

/// A filter of event types: `tenant.created`, or all of a resource's with
/// `tenant.*` (the `io.tenancy.` prefix may be given or not).
pub fn parse_type_filter(raw: &str) -> Result<String, String> {
    let kind = raw.trim().trim_start_matches(TYPE_PREFIX);
    let known = EventKind::parse(kind).is_some()
        || kind
            .strip_suffix(".*")
            .is_some_and(|resource| EventKind::ALL.iter().any(|k| k.resource() == resource));
    if known {
        Ok(kind.to_owned())
    } else {
        Err(format!("'{raw}' is not an event type (e.g. tenant.created, member.*)"))
    }
}

/// Whether `kind` (a wire name) passes `filters` (none: everything does).
pub fn type_matches(filters: &[String], kind: &str) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| match f.strip_suffix(".*") {
            Some(resource) => kind.split('.').next() == Some(resource),
            None => f == kind,
        })
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
    pub kind: EventKind,
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

/// A change of one stored resource: the resource before and after it (an
/// absent side: created or removed).
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceChange {
    Tenant {
        before: Option<Box<Tenant>>,
        after: Option<Box<Tenant>>,
        /// The tenant left a tombstone: purged, not deleted.
        purged: bool,
    },
    Subtenant {
        before: Option<Subtenant>,
        after: Option<Subtenant>,
    },
    IdentityProvider {
        before: Option<IdentityProvider>,
        after: Option<IdentityProvider>,
    },
    Member {
        before: Option<Member>,
        after: Option<Member>,
    },
    DeploymentCreated(Deployment),
    Job {
        before: Job,
        after: Job,
    },
}

/// A change as one record of the table's stream tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedChange {
    /// The record's id (`eventID`): the event's id.
    pub id: String,
    /// When the record was made (used when the resource carries no time of
    /// its own).
    pub at: Timestamp,
    pub change: ResourceChange,
    /// The `createdAt` of the tenant incarnation the item belongs to, when
    /// the item says (members, identity providers, deployments; a clone
    /// job's new tenant).
    pub incarnation: Option<Timestamp>,
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

impl RecordedChange {
    /// The event it stands for, if any.
    pub fn event(&self) -> Option<ChangeEvent> {
        use EventKind::*;
        let at = self.at;
        let event = |kind: EventKind, subject: TenantId, path: Option<Vec<TenantId>>, time: Timestamp, data: Value| {
            Some(bounded(ChangeEvent {
                id: self.id.clone(),
                kind,
                subject,
                path,
                time,
                data,
            }))
        };
        match &self.change {
            ResourceChange::Tenant { before, after, purged } => {
                tenant_event(before.as_deref(), after.as_deref(), *purged, at).and_then(|(kind, tenant, time, data)| {
                    event(kind, tenant.id.clone(), Some(tenant.path.clone()), time, data)
                })
            }
            ResourceChange::Subtenant { before, after } => {
                let subject = after.as_ref().or(before.as_ref())?.tenant_id.clone();
                let time = after.as_ref().map_or(at, |s| s.updated_at);
                let (before, after) = (
                    before.as_ref().map(Subtenant::view),
                    after.as_ref().map(Subtenant::view),
                );
                let kind = lifecycle(&before, &after, [SubtenantCreated, SubtenantUpdated, SubtenantDeleted])?;
                event(kind, subject, None, time, resource_data("subtenant", &before, &after)?)
            }
            ResourceChange::IdentityProvider { before, after } => {
                let subject = after.as_ref().or(before.as_ref())?.tenant_id.clone();
                let kind = lifecycle(
                    before,
                    after,
                    [
                        IdentityProviderCreated,
                        IdentityProviderUpdated,
                        IdentityProviderDeleted,
                    ],
                )?;
                event(
                    kind,
                    subject,
                    None,
                    at,
                    resource_data("identityProvider", before, after)?,
                )
            }
            ResourceChange::Member { before, after } => {
                // The creator's membership, written with the tenant (at its very
                // time): part of `tenant.created`.
                if let (None, Some(added)) = (before, after) {
                    if self.incarnation == Some(added.added_at) {
                        return None;
                    }
                }
                let subject = after.as_ref().or(before.as_ref())?.tenant_id.clone();
                let kind = lifecycle(before, after, [MemberAdded, MemberUpdated, MemberRemoved])?;
                event(kind, subject, None, at, resource_data("member", before, after)?)
            }
            ResourceChange::DeploymentCreated(deployment) => {
                let data = json!({ "deployment": deployment });
                event(
                    DeploymentCreated,
                    deployment.tenant_id.clone(),
                    None,
                    deployment.created_at,
                    data,
                )
            }
            ResourceChange::Job { before, after } => {
                let kind = match (before.status, after.status) {
                    (JobStatus::Queued | JobStatus::Running, JobStatus::Succeeded) => CloneSucceeded,
                    (JobStatus::Queued | JobStatus::Running, JobStatus::Failed) => CloneFailed,
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
        }
    }
}

/// `created` / `updated` (if some public field changed) / `deleted`, as the
/// kinds given.
fn lifecycle<T: serde::Serialize>(
    before: &Option<T>,
    after: &Option<T>,
    [created, updated, deleted]: [EventKind; 3],
) -> Option<EventKind> {
    match (before, after) {
        (None, Some(_)) => Some(created),
        (Some(_), None) => Some(deleted),
        (Some(b), Some(a)) if !changes(b, a, &[]).is_empty() => Some(updated),
        _ => None,
    }
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

/// (kind, the tenant it is about, time, data) of a tenant's change.
fn tenant_event(
    before: Option<&Tenant>,
    after: Option<&Tenant>,
    purged: bool,
    at: Timestamp,
) -> Option<(EventKind, Tenant, Timestamp, Value)> {
    match (before, after) {
        (None, Some(after)) if after.status == Status::Provisioning => None,
        (None, Some(after)) => {
            let data = json!({ "tenant": after.view(), "changes": {} });
            Some((EventKind::TenantCreated, after.clone(), after.created_at, data))
        }
        (Some(before), None) if before.status == Status::Provisioning => None,
        (Some(before), None) => {
            let kind = if purged {
                EventKind::TenantPurged
            } else {
                EventKind::TenantDeleted
            };
            let data = json!({ "tenant": before.view(), "changes": {} });
            Some((kind, before.clone(), at, data))
        }
        (Some(before), Some(after))
            if before.status == Status::Provisioning && after.status != Status::Provisioning =>
        {
            let data = json!({ "tenant": after.view(), "changes": {} });
            Some((EventKind::TenantCreated, after.clone(), after.updated_at, data))
        }
        (Some(before), Some(after)) => {
            let mut skip = DERIVED.to_vec();
            skip.extend(["childCount", "subtenantCount"]);
            let changed = changes(&before.view(), &after.view(), &skip);
            if changed.is_empty() {
                return None;
            }
            let kind = match AuditEvent::of(Some(before), after).action {
                Action::Retired => EventKind::TenantRetired,
                Action::Restored => EventKind::TenantRestored,
                Action::Moved => EventKind::TenantMoved,
                Action::Created => EventKind::TenantCreated,
                Action::Updated => match (before.status, after.status) {
                    (Status::Active, Status::Inactive) => EventKind::TenantDeactivated,
                    (Status::Inactive, Status::Active) => EventKind::TenantActivated,
                    _ => EventKind::TenantUpdated,
                },
            };
            let data = json!({ "tenant": after.view(), "changes": changed });
            Some((kind, after.clone(), after.updated_at, data))
        }
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_wire_name_and_resource() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            assert!(kind.as_str().starts_with(&format!("{}.", kind.resource())));
        }
        assert_eq!(EventKind::ALL.len(), 21);
        assert_eq!(EventKind::IdentityProviderDeleted.resource(), "identity_provider");
        assert_eq!(EventKind::parse("tenant.exploded"), None);
    }

    #[test]
    fn type_filters_name_a_kind_or_a_resource() {
        assert_eq!(
            parse_type_filter("io.tenancy.tenant.created"),
            Ok("tenant.created".into())
        );
        assert_eq!(parse_type_filter(" member.* "), Ok("member.*".into()));
        assert!(parse_type_filter("tenant.exploded").is_err());
        assert!(parse_type_filter("nothing.*").is_err());
        let filters = vec!["member.*".to_owned(), "tenant.created".to_owned()];
        assert!(type_matches(&filters, "member.removed"));
        assert!(type_matches(&filters, "tenant.created"));
        assert!(!type_matches(&filters, "tenant.updated"));
        assert!(type_matches(&[], "tenant.updated"));
    }

    #[test]
    fn removals_under_a_tenant_are_told_apart() {
        use EventKind::*;
        let removals: Vec<EventKind> = EventKind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_removal_under_tenant())
            .collect();
        assert_eq!(removals, [SubtenantDeleted, IdentityProviderDeleted, MemberRemoved]);
        let gone: Vec<EventKind> = EventKind::ALL.iter().copied().filter(|k| k.is_tenant_gone()).collect();
        assert_eq!(gone, [TenantDeleted, TenantPurged]);
    }
}

/// Issue 17, item 10: events stay far below EventBridge's 256 KB entry limit.
#[cfg(test)]
mod bounded_payload {
    use super::*;

    fn size(event: &ChangeEvent) -> usize {
        event.cloud_event().to_string().len()
    }

    #[test]
    fn an_event_whose_small_fields_add_up_is_still_bounded() {
        // Many fields each under the field limit: the largest go first.
        let mut event = ChangeEvent {
            id: "r".into(),
            kind: EventKind::TenantUpdated,
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
