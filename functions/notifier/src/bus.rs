//! The EventBridge bus change events are published to: `PutEvents` in
//! batches of at most 10, the entries EventBridge refuses sent again (only
//! they) with back-off, and what still fails handed back to the caller.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_eventbridge::config::{retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use shared::config::ConfigError;
use shared::domain::events::ChangeEvent;

/// The EventBridge `source` of every event (the CloudEvent inside keeps its own).
pub const SOURCE: &str = "io.tenancy";
/// `PutEvents` takes at most 10 entries.
const BATCH: usize = 10;
/// Attempts per entry, the first included.
const ATTEMPTS: u32 = 4;

pub struct Bus {
    client: aws_sdk_eventbridge::Client,
    name: String,
    /// Entries sent so far, retries included (what tests and logs count).
    sent: AtomicU64,
}

impl Bus {
    pub fn new(client: aws_sdk_eventbridge::Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
            sent: AtomicU64::new(0),
        }
    }

    /// The bus `EVENT_BUS_NAME`, at `EVENTBRIDGE_ENDPOINT` if set (locally),
    /// with timeouts well inside the function's own.
    pub fn from_env(sdk_config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let name = std::env::var("EVENT_BUS_NAME")
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or(ConfigError::Missing("EVENT_BUS_NAME"))?;
        let endpoint = std::env::var("EVENTBRIDGE_ENDPOINT").ok().filter(|v| !v.is_empty());
        Ok(Self::new(client(sdk_config, endpoint.as_deref()), name))
    }

    pub fn entries_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Publishes `events`; returns the indexes of those that still failed
    /// after every attempt (none: all published).
    pub async fn publish(&self, events: &[&ChangeEvent]) -> Vec<usize> {
        let mut failed = Vec::new();
        for (batch, chunk) in events.chunks(BATCH).enumerate() {
            let mut pending: Vec<usize> = (0..chunk.len()).map(|i| batch * BATCH + i).collect();
            for attempt in 0..ATTEMPTS {
                if pending.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                let entries: Vec<PutEventsRequestEntry> = pending.iter().map(|i| self.entry(events[*i])).collect();
                self.sent.fetch_add(entries.len() as u64, Ordering::Relaxed);
                match self.client.put_events().set_entries(Some(entries)).send().await {
                    Ok(output) => {
                        let results = output.entries();
                        pending = pending
                            .iter()
                            .enumerate()
                            .filter(|(at, _)| results.get(*at).is_none_or(|r| r.error_code().is_some()))
                            .map(|(_, i)| *i)
                            .collect();
                    }
                    Err(error) => {
                        let error = aws_sdk_eventbridge::error::DisplayErrorContext(error);
                        tracing::warn!(%error, attempt, "PutEvents failed");
                    }
                }
            }
            failed.extend(pending);
        }
        failed
    }

    fn entry(&self, event: &ChangeEvent) -> PutEventsRequestEntry {
        let entry = entry(&self.name, event);
        // Events carry a bounded payload (see events::MAX_EVENT_BYTES):
        // every event a test publishes is checked here.
        debug_assert!(
            entry_size(&entry) <= MAX_ENTRY_BYTES,
            "a {} byte EventBridge entry ({}): EventBridge refuses it",
            entry_size(&entry),
            event.kind
        );
        entry
    }
}

/// EventBridge refuses an entry larger than this (see [`entry_size`]).
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// The `PutEvents` entry of `event` on the bus `bus_name`.
pub fn entry(bus_name: &str, event: &ChangeEvent) -> PutEventsRequestEntry {
    let cloud = event.cloud_event();
    let millis = (event.time.datetime().unix_timestamp_nanos() / 1_000_000) as i64;
    PutEventsRequestEntry::builder()
        .event_bus_name(bus_name)
        .source(SOURCE)
        .detail_type(cloud["type"].as_str().unwrap_or_default())
        .detail(cloud.to_string())
        .time(DateTime::from_millis(millis))
        .build()
}

/// An entry's size as EventBridge counts it: 14 bytes for `Time`, then the
/// UTF-8 bytes of `Source`, `DetailType`, `Detail` and each of `Resources`.
pub fn entry_size(entry: &PutEventsRequestEntry) -> usize {
    let text = |s: Option<&str>| s.map_or(0, str::len);
    usize::from(entry.time().is_some()) * 14
        + text(entry.source())
        + text(entry.detail_type())
        + text(entry.detail())
        + entry.resources().iter().map(String::len).sum::<usize>()
}

/// An EventBridge client: 1 s to connect, 3 s per attempt, the standard
/// retries (3 attempts).
pub fn client(sdk_config: &aws_config::SdkConfig, endpoint: Option<&str>) -> aws_sdk_eventbridge::Client {
    let mut builder = aws_sdk_eventbridge::config::Builder::from(sdk_config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_eventbridge::Client::from_conf(builder.build())
}
