//! The local stand-in for the stream functions' event source mappings
//! (`jobs`, `notifier`): reads the table's stream on DynamoDB Local, keeps for
//! each function the records template.yaml's filters let through
//! ([`jobs::FILTER_PATTERN`], [`notifier::FILTER_PATTERNS`]), and hands them to
//! the same handler Lambda calls, in batches of the template's size. A batch
//! that reports a failed record is retried from that record, as Lambda does.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use shared::App;

/// Records per invocation (template.yaml's `BatchSize`).
pub const BATCH_SIZE: usize = 10;
/// Retries of a batch with a failed record before it is given up (Lambda's
/// `MaximumRetryAttempts`; deployed, the record then goes to the queue).
const RETRIES: u32 = 3;

/// A stream function the poller feeds.
#[derive(Clone, Copy)]
pub enum Consumer<'a> {
    Jobs,
    Notifier(&'a notifier::Bus),
}

impl Consumer<'_> {
    fn wants(&self, record: &EventRecord) -> bool {
        match self {
            Self::Jobs => jobs::is_queued_job(record),
            Self::Notifier(_) => notifier::is_for_the_notifier(record),
        }
    }

    /// Runs the function's handler, as that function (see `shared::store::iam`).
    pub async fn handle(&self, app: &App, event: &Event) -> DynamoDbEventResponse {
        let handled = async {
            match self {
                Self::Jobs => jobs::handle(app, event).await,
                Self::Notifier(bus) => notifier::handle(app, bus, event).await,
            }
        };
        shared::store::iam::as_function(self.name(), handled).await
    }

    /// The function's name (its binary's, as template.yaml gives it).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Jobs => "jobs",
            Self::Notifier(_) => "notifier",
        }
    }
}

/// Follows one table's stream.
pub struct StreamPoller {
    streams: Client,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    /// The table's stream, once found (it does not change while we poll).
    stream_arn: Option<String>,
    /// Each known shard's next iterator (`None`: closed and read to its end).
    shards: BTreeMap<String, Option<String>>,
}

impl StreamPoller {
    /// A poller of `table`'s stream at a DynamoDB Local `endpoint`.
    pub fn new(endpoint: &str, dynamodb: aws_sdk_dynamodb::Client, table: &str) -> Self {
        let config = aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(shared::store::sdk::http_client())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "local"))
            .endpoint_url(endpoint)
            .build();
        Self {
            streams: Client::from_conf(config),
            dynamodb,
            table: table.to_owned(),
            stream_arn: None,
            shards: BTreeMap::new(),
        }
    }

    /// Polls for ever, pausing when there is nothing new.
    pub async fn run(mut self, app: &App, consumers: &[Consumer<'_>]) {
        loop {
            match self.poll_once(app, consumers).await {
                Ok(0) => tokio::time::sleep(Duration::from_millis(250)).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "stream poll failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// One pass over every shard: reads what is new, and runs each
    /// consumer's handler on the records its filter keeps. Returns how many
    /// records it read.
    pub async fn poll_once(&mut self, app: &App, consumers: &[Consumer<'_>]) -> Result<usize, String> {
        let arn = self.stream_arn().await?;
        self.discover_shards(&arn).await?;
        let mut read = 0;
        let open: Vec<(String, String)> = self
            .shards
            .iter()
            .filter_map(|(id, it)| it.clone().map(|it| (id.clone(), it)))
            .collect();
        for (shard, iterator) in open {
            let output = match self
                .streams
                .get_records()
                .shard_iterator(iterator)
                .limit(100)
                .send()
                .await
            {
                Ok(output) => output,
                Err(e) => {
                    // An expired iterator, say: forget the shard, so that the
                    // next pass finds it again, and go on with the others.
                    tracing::warn!(%shard, error = ?e, "GetRecords failed; the shard will be read again");
                    self.shards.remove(&shard);
                    continue;
                }
            };
            let records = output.records.unwrap_or_default();
            read += records.len();
            let records: Vec<EventRecord> = records.into_iter().map(|r| event_record(r, &arn)).collect();
            for consumer in consumers {
                let kept: Vec<EventRecord> = records.iter().filter(|r| consumer.wants(r)).cloned().collect();
                for batch in kept.chunks(BATCH_SIZE) {
                    invoke(app, consumer, batch.to_vec()).await;
                }
            }
            self.shards.insert(shard, output.next_shard_iterator);
        }
        Ok(read)
    }

    async fn stream_arn(&mut self) -> Result<String, String> {
        if let Some(arn) = &self.stream_arn {
            return Ok(arn.clone());
        }
        let table = self
            .dynamodb
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| format!("DescribeTable: {e:?}"))?;
        let arn = table
            .table
            .and_then(|t| t.latest_stream_arn)
            .ok_or_else(|| format!("table {} has no stream", self.table))?;
        self.stream_arn = Some(arn.clone());
        Ok(arn)
    }

    /// Starts reading new shards from their oldest record: jobs queued while
    /// nothing polled still run (a finished job is not run again).
    async fn discover_shards(&mut self, arn: &str) -> Result<(), String> {
        let stream = self
            .streams
            .describe_stream()
            .stream_arn(arn)
            .send()
            .await
            .map_err(|e| format!("DescribeStream: {e:?}"))?;
        let shards = stream.stream_description.and_then(|d| d.shards).unwrap_or_default();
        for shard in shards {
            let Some(id) = shard.shard_id else { continue };
            if self.shards.contains_key(&id) {
                continue;
            }
            let iterator = self
                .streams
                .get_shard_iterator()
                .stream_arn(arn)
                .shard_id(&id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| format!("GetShardIterator: {e:?}"))?;
            self.shards.insert(id, iterator.shard_iterator);
        }
        Ok(())
    }
}

/// Runs the handler on a batch; a reported failure is retried from the
/// failed record, then given up (logged) after [`RETRIES`].
async fn invoke(app: &App, consumer: &Consumer<'_>, mut records: Vec<EventRecord>) {
    for attempt in 0..=RETRIES {
        let mut event = Event::default();
        event.records = records.clone();
        let response = consumer.handle(app, &event).await;
        let Some(failed) = response
            .batch_item_failures
            .first()
            .and_then(|f| f.item_identifier.clone())
        else {
            return;
        };
        let from = records
            .iter()
            .position(|r| r.change.sequence_number.as_deref() == Some(failed.as_str()))
            .unwrap_or(0);
        records.drain(..from);
        if attempt < RETRIES {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
    }
    tracing::error!(
        records = records.len(),
        function = consumer.name(),
        "a stream batch kept failing; deployed, it would go to the function's dead-letter queue"
    );
}

/// A stream record as Lambda delivers it.
fn event_record(record: Record, arn: &str) -> EventRecord {
    let mut event = EventRecord::default();
    event.event_id = record.event_id.unwrap_or_default();
    event.event_name = record.event_name.map(|n| n.as_str().to_owned()).unwrap_or_default();
    event.event_version = record.event_version;
    event.event_source = Some("aws:dynamodb".into());
    event.event_source_arn = Some(arn.to_owned());
    event.aws_region = record.aws_region.unwrap_or_else(|| "us-east-1".into());
    if let Some(change) = record.dynamodb {
        event.change.keys = change.keys.unwrap_or_default().into();
        event.change.new_image = change.new_image.unwrap_or_default().into();
        event.change.old_image = change.old_image.unwrap_or_default().into();
        event.change.sequence_number = change.sequence_number;
        if let Some(at) = change
            .approximate_creation_date_time
            .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        {
            event.change.approximate_creation_date_time = at;
        }
        event.change.size_bytes = change.size_bytes.unwrap_or_default();
    }
    event
}
