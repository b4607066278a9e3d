//! Mixed load: 32 clients at once, reads and writes through the gateway and
//! handlers against DynamoDB Local, a fixed number of requests within a time
//! bound. No 5xx, and no lost update: every change a client was told
//! succeeded is in the table, and nothing else is.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{spawn_app_without_stream, TestApi};

const CLIENTS: usize = 32;
const REQUESTS_PER_CLIENT: usize = 60;
const SHARED_TENANTS: usize = 8;
/// The whole run must end within this (a bound, not a target).
const TIME_LIMIT: Duration = Duration::from_secs(240);

/// What one client saw.
#[derive(Default)]
struct Seen {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    statuses: BTreeMap<u16, usize>,
    /// Successful updates, by shared tenant.
    updates: BTreeMap<usize, u64>,
    created_tenants: Vec<String>,
    created_subtenants: usize,
    server_errors: Vec<String>,
}

impl Seen {
    fn record(&mut self, kind: &'static str, started: Instant, status: u16, body: &[u8]) {
        self.latencies.entry(kind).or_default().push(started.elapsed());
        *self.statuses.entry(status).or_default() += 1;
        if status >= 500 {
            self.server_errors
                .push(format!("{kind}: {status} {}", String::from_utf8_lossy(body)));
        }
    }
}

/// The tenants clients update (and read).
fn shared_id(i: usize) -> String {
    format!("shared-{i:02}")
}

/// The tenants clients create children and subtenants under (kept apart
/// from the updated ones: a new child changes its parent's version).
fn home_id(i: usize) -> String {
    format!("home-{i:02}")
}

/// One client's requests: reads, list pages, optimistic updates (read the
/// ETag, PATCH with If-Match, re-read on 412), creates of tenants and of
/// subtenants. `client` and `n` make every write unique.
async fn client(api: Arc<TestApi>, client: usize) -> Seen {
    let mut seen = Seen::default();
    for n in 0..REQUESTS_PER_CLIENT {
        let target = (client + n) % SHARED_TENANTS;
        let started = Instant::now();
        match n % 10 {
            0..=3 => {
                let reply = api.get(&format!("/v1/tenants/{}", shared_id(target))).await;
                seen.record("get", started, reply.status, &reply.body);
            }
            4 => {
                let reply = api.get("/v1/tenants?limit=25&tags=load").await;
                seen.record("list page", started, reply.status, &reply.body);
            }
            5..=7 => {
                let path = format!("/v1/tenants/{}", shared_id(target));
                for _attempt in 0..20 {
                    let started = Instant::now();
                    let read = api.get(&path).await;
                    let etag = read.header("etag").unwrap_or("*").to_owned();
                    let body = json!({"description": format!("client {client} change {n}")});
                    let reply = api.patch(&path, &body, &[("if-match", &etag)]).await;
                    seen.record("read + update (If-Match)", started, reply.status, &reply.body);
                    match reply.status {
                        200 => {
                            *seen.updates.entry(target).or_default() += 1;
                            break;
                        }
                        412 | 409 => continue,
                        _ => break,
                    }
                }
            }
            8 => {
                let id = format!("c{client:02}-n{n:03}");
                let reply = api
                    .post(
                        "/v1/tenants",
                        &json!({"tenantId": id, "name": format!("Client {client} tenant {n}"), "tags": ["load"], "parentId": home_id(target)}),
                    )
                    .await;
                seen.record("create tenant", started, reply.status, &reply.body);
                if reply.status == 201 {
                    seen.created_tenants.push(id);
                }
            }
            _ => {
                let reply = api
                    .post(
                        &format!("/v1/tenants/{}/subtenants", home_id(target)),
                        &json!({"name": format!("Group {client}-{n}")}),
                    )
                    .await;
                seen.record("create subtenant", started, reply.status, &reply.body);
                if reply.status == 201 {
                    seen.created_subtenants += 1;
                }
            }
        }
    }
    seen
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_reading_and_writing_lose_nothing() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let api = Arc::new(spawn_app_without_stream().await);
    for i in 0..SHARED_TENANTS {
        api.create_tenant(json!({"tenantId": shared_id(i), "name": format!("Shared {i}"), "tags": ["load"]}))
            .await;
        api.create_tenant(json!({"tenantId": home_id(i), "name": format!("Home {i}")}))
            .await;
    }
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS).map(|c| tokio::spawn(client(api.clone(), c))).collect();
    let mut all = Seen::default();
    for handle in clients {
        let seen = tokio::time::timeout(TIME_LIMIT, handle)
            .await
            .expect("the load ends within its time bound")
            .unwrap();
        for (kind, mut latencies) in seen.latencies {
            all.latencies.entry(kind).or_default().append(&mut latencies);
        }
        for (status, n) in seen.statuses {
            *all.statuses.entry(status).or_default() += n;
        }
        for (tenant, n) in seen.updates {
            *all.updates.entry(tenant).or_default() += n;
        }
        all.created_tenants.extend(seen.created_tenants);
        all.created_subtenants += seen.created_subtenants;
        all.server_errors.extend(seen.server_errors);
    }
    let took = started.elapsed();
    let requests: usize = all.statuses.values().sum();
    println!(
        "\nmixed load: {CLIENTS} clients, {requests} requests in {:.1} s ({:.0} requests/s); statuses {:?}",
        took.as_secs_f64(),
        requests as f64 / took.as_secs_f64(),
        all.statuses
    );
    println!("\n| request | count | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|");
    for (kind, latencies) in &mut all.latencies {
        latencies.sort();
        let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
        println!(
            "| {kind} | {} | {} ms | {} ms | {} ms | {} ms |",
            latencies.len(),
            ms(at(0.5)),
            ms(at(0.9)),
            ms(at(0.99)),
            ms(at(1.0))
        );
    }

    assert!(all.server_errors.is_empty(), "5xx under load: {:#?}", all.server_errors);
    // No lost update: each shared tenant's version is 1 + the updates its
    // clients were told succeeded; its history holds one event per change.
    for (tenant, updates) in &all.updates {
        let stored = api.get(&format!("/v1/tenants/{}", shared_id(*tenant))).await.json();
        assert_eq!(
            stored["version"].as_u64().unwrap(),
            1 + updates,
            "{}: {updates} updates acknowledged",
            shared_id(*tenant)
        );
    }
    // Every acknowledged create is there, and nothing else.
    let mut listed = api.all_names("limit=100&tags=load").await;
    listed.sort();
    assert_eq!(listed.len(), SHARED_TENANTS + all.created_tenants.len());
    let counts = api.entity_counts().await;
    assert_eq!(counts.get("subtenant").copied().unwrap_or(0), all.created_subtenants);
    let child_counts: u64 = {
        let mut total = 0;
        for i in 0..SHARED_TENANTS {
            total += api.get(&format!("/v1/tenants/{}", home_id(i))).await.json()["childCount"]
                .as_u64()
                .unwrap();
        }
        total
    };
    assert_eq!(
        child_counts as usize,
        all.created_tenants.len(),
        "every child counted once"
    );
}
