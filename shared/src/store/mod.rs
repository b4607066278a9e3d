//! The single-table store: the only module that talks to DynamoDB.
//!
//! - [`table`]: the table's definition (keys, indexes, TTL, stream), shared by
//!   the local set-up and checked against template.yaml by a test;
//! - [`keys`]: the only place that formats `PK`/`SK`/`GSI*` values;
//! - [`records`]: how domain values become items and back; [`attributes`]:
//!   the items' attribute names; [`entity`]: what kind of item an item is
//!   ([`entity::EntityType`]) and the typed value it reads as
//!   ([`entity::Record`]);
//! - [`sdk`]: SDK errors turned into domain errors, transactions and their
//!   cancellation reasons;
//! - [`tenants`] and [`list`]: the tenant access patterns, each a `GetItem`, a
//!   `Query` or a `TransactWriteItems`; no `Scan` on a request path;
//! - [`iam`]: the IAM actions each request needs, recorded and checked per
//!   function against template.yaml's policies (locally).

pub mod attributes;
pub mod capacity;
pub mod deployments;
pub mod entity;
pub mod events;
pub mod feed;
pub mod iam;
pub mod idempotency;
pub mod identity_providers;
pub mod invariants;
pub mod keys;
pub mod list;
pub mod members;
pub mod metrics;
pub mod purge;
pub mod records;
pub mod sdk;
pub mod stream;
pub mod subtenant_record;
pub mod subtenants;
pub mod table;
pub mod tenant_record;
pub mod tenants;
pub mod tree;
mod versioned_write;
pub mod work;

use std::time::Duration;

use aws_sdk_dynamodb::config::{retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::Client;

pub use list::{ListPosition, Page};

/// Handle on the table; cheap to clone (the SDK client is reference-counted).
#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    list_shards: u16,
    requests: metrics::RequestCounter,
    /// The feed day this process marked last (see [`feed`]).
    feed_marked: feed::MarkedDay,
}

impl Store {
    pub fn new(connection: Connection, table: impl Into<String>, list_shards: u16) -> Self {
        let Connection { client, requests } = connection;
        Self {
            client,
            table: table.into(),
            list_shards: list_shards.max(1),
            requests,
            feed_marked: Default::default(),
        }
    }

    /// The DynamoDB requests this store's client has sent, by operation.
    pub fn requests(&self) -> &metrics::RequestCounter {
        &self.requests
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn list_shards(&self) -> u16 {
        self.list_shards
    }

    /// One strongly consistent `GetItem`: a client reads its own writes.
    pub(crate) async fn get_consistent(&self, key: &keys::Key) -> crate::error::Result<Option<records::Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(records::key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk::classify)?;
        Ok(output.item)
    }

    /// A `Query` of every item under `pk` in `index` (in the table itself
    /// when `None`).
    pub(crate) fn query_partition(
        &self,
        index: Option<&table::Index>,
        pk: impl Into<String>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(|i| i.name.to_owned()))
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", index.map_or(table::PK, |i| i.pk))
            .expression_attribute_values(":pk", records::string_value(pk))
    }

    /// A `Query` of the items under `pk` whose SK starts with `prefix`.
    pub(crate) fn query_prefix(
        &self,
        pk: &str,
        prefix: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", table::PK)
            .expression_attribute_names("#sk", table::SK)
            .expression_attribute_values(":pk", records::string_value(pk))
            .expression_attribute_values(":prefix", records::string_value(prefix))
    }
}

impl Store {
    /// Every item a `Query` finds, page after page (one request a page).
    pub(crate) async fn query_all(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> crate::error::Result<Vec<records::Item>> {
        self.query_until(request, |_| false).await
    }

    /// How many items a `Query` finds (`Select=COUNT`), page after page.
    pub(crate) async fn query_count(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> crate::error::Result<u64> {
        let mut total = 0;
        self.for_each_page(request.select(aws_sdk_dynamodb::types::Select::Count), |page| {
            total += page.count as u64;
            true
        })
        .await?;
        Ok(total)
    }

    /// The items a `Query` finds, page after page, until `enough` says the
    /// items so far are enough (checked after each page) or none are left.
    pub(crate) async fn query_until(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        enough: impl Fn(&[records::Item]) -> bool,
    ) -> crate::error::Result<Vec<records::Item>> {
        let mut items = Vec::new();
        self.for_each_page(request, |page| {
            items.extend(page.items.unwrap_or_default());
            !enough(&items)
        })
        .await?;
        Ok(items)
    }

    /// Sends a `Query` page after page (one request a page), handing each
    /// page to `take` until it answers false or no page is left.
    async fn for_each_page(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        mut take: impl FnMut(aws_sdk_dynamodb::operation::query::QueryOutput) -> bool,
    ) -> crate::error::Result<()> {
        let mut start = None;
        loop {
            let mut page = request
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk::classify)?;
            let next = page.last_evaluated_key.take();
            match (take(page), next) {
                (true, Some(key)) => start = Some(key),
                _ => return Ok(()),
            }
        }
    }
}

/// A DynamoDB client and the counter of the requests it sends.
#[derive(Clone, Debug)]
pub struct Connection {
    pub client: Client,
    pub requests: metrics::RequestCounter,
}

/// Builds the DynamoDB client from a loaded SDK config: bounded timeouts so a
/// slow or absent database answers 503 well before the Lambda timeout, the
/// standard retry mode (3 attempts, exponential back-off with jitter), and a
/// request counter.
pub fn client(sdk_config: &aws_config::SdkConfig, endpoint: Option<&str>) -> Connection {
    let requests = metrics::RequestCounter::default();
    let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .interceptor(requests.clone())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Connection {
        client: Client::from_conf(builder.build()),
        requests,
    }
}

/// The SDK configuration of local stand-ins (DynamoDB Local, the local
/// event bus), which ignore signatures: fixed region and dummy credentials,
/// nothing read from the environment.
pub fn local_sdk_config() -> aws_config::SdkConfig {
    use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(sdk::http_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "local", "local", None, None, "local",
        )))
        .build()
}

/// A client for DynamoDB Local (or any endpoint that ignores signatures).
pub fn local_client(endpoint: &str) -> Connection {
    client(&local_sdk_config(), Some(endpoint))
}
