//! The `notifier` Lambda's library, an adapter like the HTTP functions':
//! [`handle`] turns a batch of the table's stream records into
//! [`StreamRecord`]s, has [`shared::service::notify`] record each one's
//! change event in the events feed (once per event id), and publishes the
//! events to the EventBridge bus. Tests and the dev gateway's stream poller
//! call what Lambda calls.

pub mod bus;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::domain::events::ChangeEvent;
use shared::domain::Timestamp;
use shared::service::notify;
use shared::store::stream::StreamRecord;
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

/// The stream record as the store reads it.
fn stream_record(record: &EventRecord) -> StreamRecord {
    let millis = record.change.approximate_creation_date_time.timestamp_millis();
    let at = Timestamp::from_unix_millis(millis).unwrap_or_else(Timestamp::now);
    StreamRecord::from_images(
        record.event_id.clone(),
        &record.change.old_image,
        &record.change.new_image,
        at,
    )
}

/// The change event `record` stands for, if any.
pub fn change_event(record: &EventRecord) -> Option<ChangeEvent> {
    notify::change_event(&stream_record(record))
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
        match notify::record(&app.store, &stream_record(record)).await {
            Ok(Some(change)) => recorded.push((record, change)),
            Ok(None) => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::tenant::{InputMode, Stamp};
    use shared::domain::{Tenant, TenantId, TenantInput};
    use shared::store::records::{self, Item};

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
        let change = Stamp {
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

    /// The filters name item kinds by their `entityType`: each is a kind
    /// the store has (a renamed kind fails here, not silently in the trigger).
    #[test]
    fn the_filters_name_kinds_the_store_has() {
        use shared::store::entity::EntityType;
        for pattern in FILTER_PATTERNS {
            let pattern: serde_json::Value = serde_json::from_str(pattern).unwrap();
            let images = pattern["dynamodb"].as_object().unwrap();
            for image in images.values() {
                for kind in image["entityType"]["S"].as_array().unwrap() {
                    let kind = kind.as_str().unwrap();
                    assert!(EntityType::parse(kind).is_some(), "{kind} is no entityType");
                }
            }
        }
    }
}
