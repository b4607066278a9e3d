//! The heavy tests: large data sets and long walks. A test binary of their
//! own, so they run after the functional tests (cargo runs test binaries one
//! at a time) with a DynamoDB Local to themselves.

#[path = "../api/helpers.rs"]
#[allow(dead_code)] // shared with the api binary, which uses all of it
mod helpers;

mod cleanup;
mod mixed;
mod outage;
mod paging;
mod scale;
mod subtenants;

/// Heavy tests take turns: DynamoDB Local slows to a crawl when several large
/// data sets are written and read at once. Each test holds its turn while it runs.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Writes `items` in bulk into the test's table.
pub async fn seed_items(api: &helpers::TestApi, items: &[helpers::Item]) {
    dev_gateway::dataset::put_items(&api.client, &api.table, items)
        .await
        .unwrap();
}
