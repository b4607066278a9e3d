//! Scale: get, lookup and list latency of the release `tenants` function,
//! run as Lambda runs it, on tables of 1k, 10k and 100k tenants seeded in
//! bulk; with the DynamoDB requests and capacity of each call, so that a page
//! is seen to cost the same whatever the table holds. Then the clean-up's
//! throughput: the release `cleanup` function purging retired tenants.

use std::time::{Duration, Instant};

use bytes::Bytes;
use dev_gateway::{dataset, event, jwt, routes};
use http::HeaderMap;
use serde_json::Value;
use shared::domain::Timestamp;
use shared::store::table::{self, Stream};

use crate::dynamodb_proxy::DynamoDbProxy;
use crate::percentile;
use crate::runtime_api::Started;

/// The path of the `k`-th call of a kind.
type PathOf = fn(usize) -> String;

/// What is measured on each size: a name, and the path of its `k`-th call.
const CALLS: &[(&str, PathOf)] = &[
    ("get by id", |k| format!("/v1/tenants/t{k:05}")),
    ("get by name", |k| format!("/v1/tenants/by-name/Tenant%20{k:05}")),
    ("lookup by external id", |k| format!("/v1/tenants?externalId=crm:{k}")),
    ("list, first page of 25", |_| "/v1/tenants?limit=25".into()),
    ("list by reseller", |k| {
        format!("/v1/tenants?limit=25&resellerId=r{}", k % 50)
    }),
    ("list by tag", |k| format!("/v1/tenants?limit=25&tags=tag-{}", k % 20)),
    ("children of a parent", |k| {
        format!("/v1/tenants?limit=25&parentId=t{:05}", k % dataset::PARENTS)
    }),
];

/// One kind of call on one table size.
pub struct Row {
    pub size: usize,
    pub call: &'static str,
    /// Sorted.
    pub latency: Vec<Duration>,
    pub requests_per_call: f64,
    pub capacity_per_call: f64,
    pub failures: usize,
}

/// The clean-up's run over retired tenants.
pub struct Purge {
    pub tenants: usize,
    pub items: u64,
    pub invocations: usize,
    pub took: Duration,
}

/// An admin's API Gateway v2 event for `GET path`.
pub(crate) fn get_event(path: &str, claims: &serde_json::Map<String, Value>) -> Bytes {
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path, ""));
    let matched = routes::find("GET", raw_path).expect("a declared route");
    let headers = HeaderMap::new();
    let incoming = event::Incoming {
        method: "GET",
        raw_path,
        raw_query,
        headers: &headers,
        body: &[],
        source_ip: "127.0.0.1".into(),
        host: "127.0.0.1:3000",
    };
    Bytes::from(event::build(&incoming, &matched, jwt::authoriser_claims(claims), "bench").to_string())
}

pub(crate) fn admin_claims() -> serde_json::Map<String, Value> {
    let secret = b"bench-secret";
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let scope = "tenants:* subtenants:* identity-providers:* deployments:* members:* events:*";
    let token = jwt::dev_token(secret, "bench-admin", &["tenancy:admin".into()], scope, now, 3600);
    jwt::Verifier::dev(secret)
        .verify(&token, now)
        .expect("a fresh dev token")
}

/// The release `function` started as a warm Lambda, with `table` as its table.
async fn warm(function: &str, table: &str, env: &[(String, String)]) -> Started {
    let mut env = env.to_vec();
    env.push(("TABLE_NAME".into(), table.into()));
    let binary = crate::root()
        .join("target/release")
        .join(function)
        .display()
        .to_string();
    Started::start(&[binary], &env).await
}

/// Seeds the scale table up to each of `sizes` in turn and measures every
/// call `samples` times on each.
pub async fn run(
    client: &aws_sdk_dynamodb::Client,
    proxy: &DynamoDbProxy,
    env: &[(String, String)],
    sizes: &[usize],
    samples: usize,
) -> Vec<Row> {
    let name = "bench-scale";
    table::create(client, name, Stream::Off)
        .await
        .expect("the scale table is created");
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let children = (largest.saturating_sub(dataset::PARENTS) / dataset::PARENTS) as u32;
    let claims = admin_claims();
    let mut rows = Vec::new();
    let mut seeded = 0;
    for &size in sizes {
        let started = Instant::now();
        for chunk_start in (seeded..size).step_by(10_000) {
            let items = dataset::scale_items(chunk_start..size.min(chunk_start + 10_000), children, 1);
            dataset::put_items(client, name, &items)
                .await
                .expect("the scale table is seeded");
        }
        eprintln!(
            "  seeded {size} tenants ({} new in {:.1} s)",
            size - seeded,
            started.elapsed().as_secs_f64()
        );
        seeded = size;
        let warm = warm("tenants", name, env).await;
        for (call, path) in CALLS {
            let (mut latency, mut requests, mut capacity, mut failures) = (Vec::new(), 0, 0.0, 0);
            for j in 0..samples + 5 {
                let k = (j * 7919 + 13) % size;
                let event = get_event(&path(k), &claims);
                proxy.take();
                let outcome = warm.api.invoke(event, Duration::from_secs(20)).await;
                let spent = proxy.take();
                let ok = outcome.as_ref().is_some_and(|o| o.ok && !crate::is_not_2xx(&o.body));
                if !ok {
                    failures += 1;
                    if failures == 1 {
                        eprintln!(
                            "  {call}: {:?}",
                            outcome.map(|o| String::from_utf8_lossy(&o.body).into_owned())
                        );
                    }
                } else if j >= 5 {
                    latency.push(outcome.map(|o| o.duration).unwrap_or_default());
                    requests += spent.requests;
                    capacity += spent.capacity;
                }
            }
            latency.sort();
            let n = latency.len().max(1) as f64;
            rows.push(Row {
                size,
                call,
                requests_per_call: requests as f64 / n,
                capacity_per_call: capacity / n,
                latency,
                failures,
            });
        }
        warm.stop();
    }
    rows
}

/// Seeds `tenants` retired tenants (20 items each) and times the release
/// `cleanup` function purging them, invocation after invocation until it
/// says it is done.
pub async fn purge(client: &aws_sdk_dynamodb::Client, env: &[(String, String)], tenants: usize) -> Purge {
    let name = "bench-cleanup";
    table::create(client, name, Stream::Off)
        .await
        .expect("the clean-up table is created");
    let retired_at = Timestamp::now().plus(time::Duration::days(-45));
    let items: Vec<dataset::Item> = (0..tenants)
        .flat_map(|i| dataset::retired_items(i, retired_at))
        .collect();
    dataset::put_items(client, name, &items)
        .await
        .expect("the clean-up table is seeded");
    let warm = warm("cleanup", name, env).await;
    let schedule =
        Bytes::from(std::fs::read(crate::root().join("events/cleanup-schedule.json")).expect("the sample event"));
    let started = Instant::now();
    let (mut purged, mut deleted, mut invocations) = (0, 0, 0);
    loop {
        invocations += 1;
        let outcome = warm
            .api
            .invoke(schedule.clone(), Duration::from_secs(60))
            .await
            .expect("the clean-up answers");
        let summary: Value = serde_json::from_slice(&outcome.body).expect("a summary");
        assert!(outcome.ok, "the clean-up failed: {summary}");
        purged += summary["purged"].as_array().map_or(0, Vec::len);
        deleted += summary["itemsDeleted"].as_u64().unwrap_or(0);
        if summary["stoppedEarly"] != Value::Bool(true) || invocations > 100 {
            break;
        }
    }
    let took = started.elapsed();
    warm.stop();
    Purge {
        tenants: purged,
        items: deleted,
        invocations,
        took,
    }
}

pub fn latency_ms(row: &Row, p: f64) -> f64 {
    crate::ms(percentile(&row.latency, p))
}
