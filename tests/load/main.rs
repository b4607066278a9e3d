//! The heavy tests: large data sets and long walks. A test binary of their
//! own, so they run after the functional tests (cargo runs test binaries one
//! at a time) with a DynamoDB Local to themselves.

#[path = "../api/helpers.rs"]
#[allow(dead_code)] // shared with the api binary, which uses all of it
mod helpers;

mod cleanup;
mod paging;
mod scale;
mod subtenants;

/// Heavy tests take turns: DynamoDB Local slows to a crawl when several large
/// data sets are written and read at once. Each test holds its turn while it runs.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Writes `items` with BatchWriteItem, 8 batches at a time, unprocessed items
/// retried: bulk seeding, with a client that has room to wait (unlike the
/// API's 5 s budget).
pub async fn seed_items(api: &helpers::TestApi, items: &[helpers::Item]) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use futures_util::StreamExt;
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .operation_timeout(std::time::Duration::from_secs(60))
        .operation_attempt_timeout(std::time::Duration::from_secs(30))
        .build();
    let seeder = aws_sdk_dynamodb::Client::from_conf(api.client.config().to_builder().timeout_config(timeouts).build());
    let seeder = &seeder;
    futures_util::stream::iter(items.chunks(25).map(|chunk| async move {
        let mut pending: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item.clone())).build().unwrap())
                    .build()
            })
            .collect();
        while !pending.is_empty() {
            let out = seeder
                .batch_write_item()
                .request_items(&api.table, pending)
                .send()
                .await
                .unwrap();
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&api.table))
                .unwrap_or_default();
        }
    }))
    .buffer_unordered(8)
    .collect::<Vec<()>>()
    .await;
}
