//! The `jobs` Lambda's library: [`handle`] runs the clone jobs of a batch of
//! DynamoDB stream records, so tests and the dev gateway's stream poller call
//! what Lambda calls.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::service::jobs::{self, Outcome};
use shared::App;

/// The event filter of the function's stream trigger: new job items that are
/// queued. template.yaml declares exactly this (a test compares them), and
/// the local poller applies it with [`shared::stream_filter`].
pub const FILTER_PATTERN: &str = r#"{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entityType": {"S": ["job"]}, "status": {"S": ["queued"]}}}}"#;

/// Runs the job of each record, in order. At the first record that fails
/// (the table could not be read or written), it stops and reports that
/// record: Lambda retries from there, and a job already done is not redone.
pub async fn handle(app: &App, event: &Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some(job_id) = job_id(record) else {
            tracing::warn!(event_id = %record.event_id, "a record without a job id: skipped");
            continue;
        };
        match jobs::run(&app.store, &job_id).await {
            Ok(Outcome::Succeeded) => tracing::info!(%job_id, "clone succeeded"),
            Ok(Outcome::Failed(reason)) => tracing::warn!(%job_id, %reason, "clone failed"),
            Ok(Outcome::NothingToDo) => tracing::info!(%job_id, "job already finished"),
            Err(error) => {
                tracing::error!(%job_id, ?error, "job interrupted; its record will be retried");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record.change.sequence_number.clone();
                response.batch_item_failures.push(failure);
                break;
            }
        }
    }
    response
}

/// The `id` of the job item in the record's new image.
fn job_id(record: &EventRecord) -> Option<String> {
    match record.change.new_image.get("id")? {
        serde_dynamo::AttributeValue::S(id) => Some(id.clone()),
        _ => None,
    }
}

/// Whether [`FILTER_PATTERN`] lets a record through.
pub fn is_queued_job(record: &EventRecord) -> bool {
    shared::stream_filter::matches_any(&[FILTER_PATTERN], record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(event_name: &str, entity: &str, status: &str) -> EventRecord {
        serde_json::from_value(json!({
            "eventID": "1", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_700_000_000.0,
                "Keys": {"PK": {"S": "JOB#x"}, "SK": {"S": "JOB"}},
                "NewImage": {"entityType": {"S": entity}, "status": {"S": status}, "id": {"S": "x"}},
                "SequenceNumber": "100", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_filter_takes_inserted_queued_jobs_only() {
        assert!(is_queued_job(&record("INSERT", "job", "queued")));
        assert!(!is_queued_job(&record("MODIFY", "job", "queued")));
        assert!(!is_queued_job(&record("INSERT", "job", "running")));
        assert!(!is_queued_job(&record("INSERT", "tenant", "queued")));
        assert_eq!(job_id(&record("INSERT", "job", "queued")).as_deref(), Some("x"));
        let pattern: serde_json::Value = serde_json::from_str(FILTER_PATTERN).unwrap();
        assert_eq!(
            pattern["dynamodb"]["NewImage"]["entityType"]["S"],
            json!([shared::store::entity::EntityType::Job.as_str()]),
            "the filter names the store's job items"
        );
    }
}
