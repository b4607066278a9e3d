//! The local stand-in for EventBridge: moto's server (from PyPI, installed
//! into `.local/moto-venv` by `make dev` and `make test`) on a loopback port, with
//! a bus and a rule that sends every Tenancy event to an SQS queue there, so
//! the notifier runs the same SDK calls as in AWS and anyone can read what
//! it published.

use std::time::Duration;

use aws_sdk_eventbridge::types::Target;
use serde_json::Value;

use crate::background::{free_port, Watched};
use crate::dynamodb_local::repo_root;

/// A running local event bus server. Dropping it stops the process.
pub struct LocalBus {
    _process: Watched,
    pub endpoint: String,
}

/// A bus and the queue its rule feeds.
pub struct BusAndQueue {
    pub bus: String,
    pub queue_url: String,
}

fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    shared::store::local_sdk_config()
        .to_builder()
        .endpoint_url(endpoint)
        .build()
}

/// An SQS client of the local bus's server at `endpoint`.
pub fn sqs_at(endpoint: &str) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&sdk_config(endpoint))
}

/// The CloudEvents that arrived on a queue the bus's rule fills (waiting up
/// to `wait`, at most 20 s, for the first), removed from it.
pub async fn receive_from(sqs: &aws_sdk_sqs::Client, queue_url: &str, wait: Duration) -> Result<Vec<Value>, String> {
    let output = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait.as_secs().min(20) as i32)
        .send()
        .await
        .map_err(|e| format!("ReceiveMessage: {e:?}"))?;
    let mut events = Vec::new();
    for message in output.messages.unwrap_or_default() {
        let envelope: Value = serde_json::from_str(message.body().unwrap_or("{}")).unwrap_or_default();
        events.push(envelope["detail"].clone());
        if let Some(handle) = message.receipt_handle() {
            let _ = sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .send()
                .await;
        }
    }
    Ok(events)
}

impl LocalBus {
    /// Starts moto's server on `port` (a free one if `None`).
    pub fn start(port: Option<u16>) -> Result<Self, String> {
        let server = repo_root().join(".local/moto-venv/bin/moto_server");
        if !server.is_file() {
            return Err(format!("{} is missing: run make dev or make test", server.display()));
        }
        let port = match port {
            Some(p) => p,
            None => free_port().map_err(|e| format!("no free port: {e}"))?,
        };
        let command = format!("'{}' -H 127.0.0.1 -p {port}", server.display());
        let process = Watched::start("the local event bus (moto)", &command, port, Duration::from_secs(60))?;
        Ok(Self {
            _process: process,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    /// An EventBridge client of this server.
    pub fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&sdk_config(&self.endpoint))
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        sqs_at(&self.endpoint)
    }

    /// Creates the bus `name` (if absent) and a queue `name` with a rule that
    /// sends it every event of source `io.tenancy`: what a consumer would set up.
    pub async fn bus_and_queue(&self, name: &str) -> Result<BusAndQueue, String> {
        let events = self.events();
        let sqs = self.sqs();
        let err = |what: &str| {
            let what = what.to_owned();
            move |e: String| format!("{what}: {e}")
        };
        if events.describe_event_bus().name(name).send().await.is_err() {
            events
                .create_event_bus()
                .name(name)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))
                .map_err(err("CreateEventBus"))?;
        }
        let queue_url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))
            .map_err(err("CreateQueue"))?
            .queue_url
            .unwrap_or_default();
        let queue_arn = format!("arn:aws:sqs:us-east-1:123456789012:{name}");
        events
            .put_rule()
            .name(format!("{name}-all"))
            .event_bus_name(name)
            .event_pattern(r#"{"source": ["io.tenancy"]}"#)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))
            .map_err(err("PutRule"))?;
        let target = Target::builder()
            .id("queue")
            .arn(queue_arn)
            .build()
            .map_err(|e| format!("{e:?}"))?;
        events
            .put_targets()
            .rule(format!("{name}-all"))
            .event_bus_name(name)
            .targets(target)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))
            .map_err(err("PutTargets"))?;
        Ok(BusAndQueue {
            bus: name.to_owned(),
            queue_url,
        })
    }

    /// The notifier's bus `name` on this server (as the notifier builds it).
    pub fn notifier_bus(&self, name: &str) -> notifier::Bus {
        let client = notifier::bus::client(&shared::store::local_sdk_config(), Some(&self.endpoint));
        notifier::Bus::new(client, name)
    }

    /// The CloudEvents that arrived on the queue (waiting up to `wait` for
    /// the first), removed from it.
    pub async fn receive(&self, queue_url: &str, wait: Duration) -> Result<Vec<Value>, String> {
        receive_from(&self.sqs(), queue_url, wait).await
    }
}
