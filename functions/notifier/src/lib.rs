//! The `notifier` Lambda's library: [`handle`] turns a batch of the table's
//! stream records into change events (see
//! [`shared::service::change_events`]), records each in the events feed
//! (once per event id) and publishes them to the EventBridge bus. Tests and
//! the dev gateway's stream poller call what Lambda calls.

pub mod bus;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::domain::Timestamp;
use shared::service::change_events::{self, ChangeEvent};
use shared::store::records::{self, Item};
use shared::App;

pub use bus::Bus;

/// The event filters of the function's stream trigger (alternatives): items
/// that can mean a change event, as they are after the change or were before
/// it. Guards, facets, history, feed items and the like never reach the
/// function. template.yaml declares exactly these (a test compares them).
pub const FILTER_PATTERNS: &[&str] = &[
    r#"{"dynamodb": {"NewImage": {"entityType": {"S": ["tenant", "tombstone", "subtenant", "identityProvider", "member", "deployment", "job"]}}}}"#,
    r#"{"dynamodb": {"OldImage": {"entityType": {"S": ["tenant", "subtenant", "identityProvider", "member"]}}}}"#,
];

/// Whether the trigger's filters let `record` through.
pub fn is_for_the_notifier(record: &EventRecord) -> bool {
    shared::stream_filter::matches_any(FILTER_PATTERNS, record)
}

/// The change event `record` stands for, if any.
pub fn change_event(record: &EventRecord) -> Option<ChangeEvent> {
    let image = |item: &serde_dynamo::Item| (!item.is_empty()).then(|| Item::from(item.clone()));
    let millis = record.change.approximate_creation_date_time.timestamp_millis();
    let at = Timestamp::from_unix_millis(millis).unwrap_or_else(Timestamp::now);
    let (old, new) = (image(&record.change.old_image), image(&record.change.new_image));
    change_events::derive(&record.event_id, old.as_ref(), new.as_ref(), at)
}

/// Records then publishes the batch's events, in order. A record the table
/// cannot take stops the recording there; an event EventBridge still refuses
/// after its retries marks its record. The earliest such record is reported,
/// so Lambda retries from it: recording is idempotent, and consumers tell a
/// republished event by its unchanged id.
pub async fn handle(app: &App, bus: &Bus, event: &Event) -> DynamoDbEventResponse {
    let mut recorded: Vec<(&EventRecord, ChangeEvent)> = Vec::new();
    let mut failed_at: Option<&EventRecord> = None;
    for record in &event.records {
        let Some(change) = change_event(record) else {
            continue;
        };
        match record_in_feed(app, &change, incarnation(record)).await {
            Ok(true) => recorded.push((record, change)),
            Ok(false) => {}
            Err(error) => {
                tracing::error!(event_id = %record.event_id, ?error, "could not record a change event; retried from here");
                failed_at = Some(record);
                break;
            }
        }
    }
    let events: Vec<&ChangeEvent> = recorded.iter().map(|(_, e)| e).collect();
    let unpublished = bus.publish(&events).await;
    if let Some(first) = unpublished.first() {
        tracing::error!(
            count = unpublished.len(),
            "change events not published; retried from the first"
        );
        failed_at = Some(recorded[*first].0);
    }
    let mut response = DynamoDbEventResponse::default();
    if let Some(record) = failed_at {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = record.change.sequence_number.clone();
        response.batch_item_failures.push(failure);
    }
    response
}

/// Records `change` in the feed with the path that decides who sees it (the
/// tenant's, looked up when the record does not carry it) and the moment that
/// path held; whether it is an event at all. The removal of a subtenant,
/// member or identity provider that went with its tenant is not: it is part
/// of `tenant.deleted` or `tenant.purged`. Records of one tenant's items
/// share its partition, so they reach the notifier in order: by the time such
/// a removal comes, the tenant's own removal has left its mark.
///
/// `incarnation`: the `createdAt` of the tenant the record's item belongs to,
/// when the item says. A change of an earlier tenant of the id, recorded
/// after a new tenant took it, keeps only its own id as its path, at its own
/// time: no later tenant's members see it.
async fn record_in_feed(
    app: &App,
    change: &ChangeEvent,
    incarnation: Option<Timestamp>,
) -> shared::error::Result<bool> {
    let store = &app.store;
    let tenant_gone = matches!(change.kind.as_str(), "tenant.deleted" | "tenant.purged");
    if tenant_gone {
        if let Some(incarnation) = change.data["tenant"]["createdAt"].as_str().and_then(Timestamp::parse) {
            store
                .record_tenant_gone(&change.subject, incarnation, change.time)
                .await?;
        }
    }
    let (path, path_at) = match &change.path {
        // The image's path, as it stood when the change was made.
        Some(path) => (path.clone(), change.time),
        None => {
            // Taken before the read: the path read held at this moment or later.
            let looked_up_at = Timestamp::now();
            let tenant = store.get_tenant(&change.subject).await?;
            if is_removal(change) {
                if let Some(born) = born(change) {
                    let gone = store.tenant_gone_incarnation(&change.subject, born).await?;
                    let of_the_live_tenant = tenant
                        .as_ref()
                        .is_some_and(|t| t.created_at <= born && gone.is_none_or(|g| t.created_at > g));
                    if gone.is_some() && !of_the_live_tenant {
                        return Ok(false);
                    }
                }
            }
            match tenant {
                Some(tenant) if is_of(change, incarnation, &tenant) => (tenant.path, looked_up_at),
                _ => (vec![change.subject.clone()], change.time),
            }
        }
    };
    store
        .record_change_event_seen(change, &path, path_at, Timestamp::now())
        .await?;
    Ok(true)
}

/// The `createdAt` of the tenant incarnation a record's item belongs to:
/// `tenantCreatedAt` (members, identity providers, deployments) or, for a
/// clone job (whose event is about its new tenant), `targetCreatedAt`.
fn incarnation(record: &EventRecord) -> Option<Timestamp> {
    [&record.change.new_image, &record.change.old_image]
        .into_iter()
        .map(|image| Item::from(image.clone()))
        .find_map(|item| {
            [records::INCARNATION, "targetCreatedAt"]
                .into_iter()
                .find_map(|name| records::string_attr(&item, name).and_then(Timestamp::parse))
        })
}

/// Whether `change` is about the incarnation `tenant` of its subject: the
/// one its item names, else (subtenants) the one live when it was born.
fn is_of(change: &ChangeEvent, incarnation: Option<Timestamp>, tenant: &shared::domain::Tenant) -> bool {
    match incarnation {
        Some(at) => at == tenant.created_at,
        None => born(change).unwrap_or(change.time) >= tenant.created_at,
    }
}

/// Whether `change` removes something that lives under a tenant.
fn is_removal(change: &ChangeEvent) -> bool {
    !change.kind.starts_with("tenant.") && (change.kind.ends_with(".deleted") || change.kind.ends_with(".removed"))
}

/// When the resource of `change` came to be (`createdAt`, or `addedAt` for a member).
fn born(change: &ChangeEvent) -> Option<Timestamp> {
    let resource = change.data.as_object()?.iter().find(|(name, _)| *name != "changes")?.1;
    resource["createdAt"]
        .as_str()
        .or(resource["addedAt"].as_str())
        .and_then(Timestamp::parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::tenant::{Change, InputMode};
    use shared::domain::{Tenant, TenantId, TenantInput};
    use shared::store::records;

    fn record(name: &str, old: Option<Item>, new: Option<Item>) -> EventRecord {
        let mut record = EventRecord::default();
        record.event_id = "e-1".into();
        record.event_name = name.into();
        record.change.old_image = old.map(Into::into).unwrap_or_default();
        record.change.new_image = new.map(Into::into).unwrap_or_default();
        record.change.sequence_number = Some("100".into());
        record
    }

    fn tenant_item() -> Item {
        let body = serde_json::json!({"tenantId": "acme", "name": "Acme"});
        let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
        let change = Change {
            actor: "alice".into(),
            at: Timestamp::now(),
        };
        records::tenant_item(&Tenant::create(input, TenantId::parse("acme").unwrap(), &change), 1).unwrap()
    }

    #[test]
    fn a_stream_record_becomes_its_event_and_the_filters_agree() {
        let inserted = record("INSERT", None, Some(tenant_item()));
        assert!(is_for_the_notifier(&inserted));
        let event = change_event(&inserted).unwrap();
        assert_eq!((event.id.as_str(), event.kind.as_str()), ("e-1", "tenant.created"));
        let removed = record("REMOVE", Some(tenant_item()), None);
        assert!(is_for_the_notifier(&removed));
        assert_eq!(change_event(&removed).unwrap().kind, "tenant.deleted");
        let guard = records::name_guard_item("acme", &TenantId::parse("acme").unwrap());
        let internal = record("INSERT", None, Some(guard));
        assert!(!is_for_the_notifier(&internal), "the trigger's filters keep guards out");
        assert_eq!(change_event(&internal), None);
    }
}
