//! Change events end to end, on DynamoDB Local and the local bus (moto): the
//! table's stream through the notifier (as the local poller feeds it), to
//! EventBridge and a queue a rule fills, and into the events feed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use bytes::Bytes;
use dev_gateway::stream::{Consumer, StreamPoller};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use shared::domain::Timestamp;
use shared::store::records;

use crate::helpers::{local_bus, spawn_app, TestApi};

static QUEUES: AtomicUsize = AtomicUsize::new(0);

/// A bus of the test's own, its queue, and the notifier publishing to it.
async fn bus() -> (notifier::Bus, String) {
    let name = format!("test-{}-{}", std::process::id(), QUEUES.fetch_add(1, Ordering::Relaxed));
    let local = local_bus();
    let created = local.bus_and_queue(&name).await.unwrap();
    (local.notifier_bus(&created.bus), created.queue_url)
}

/// Runs the stream functions `consumers` on what the stream holds, then
/// reads the queue until `count` events came or `within` went by.
async fn published(
    api: &TestApi,
    poller: &mut StreamPoller,
    consumers: &[Consumer<'_>],
    queue: &str,
    count: usize,
    within: Duration,
) -> Vec<Value> {
    let started = Instant::now();
    let mut events = Vec::new();
    while events.len() < count && started.elapsed() < within {
        poller.poll_once(api.app(), consumers).await.unwrap();
        events.extend(local_bus().receive(queue, Duration::from_millis(200)).await.unwrap());
    }
    events
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().trim_start_matches("io.tenancy.").to_owned())
        .collect()
}

#[tokio::test]
async fn each_mutating_route_publishes_exactly_one_event_of_its_type() {
    let api = spawn_app().await;
    let (bus, queue) = bus().await;
    let mut poller = StreamPoller::new(&api.endpoint, api.client.clone(), &api.table);
    let ok = |status: u16, reply: crate::helpers::Reply| {
        assert_eq!(reply.status, status, "{}", String::from_utf8_lossy(&reply.body));
        reply
    };
    let mut expected: Vec<&str> = Vec::new();
    let mut step = |kind: &'static str| expected.push(kind);

    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "tags": ["gold"]}))
        .await;
    step("tenant.created");
    ok(
        200,
        api.patch("/v1/tenants/acme", &json!({"description": "Rockets"}), &[])
            .await,
    );
    step("tenant.updated");
    ok(
        200,
        api.patch("/v1/tenants/acme", &json!({"status": "inactive"}), &[]).await,
    );
    step("tenant.deactivated");
    ok(
        200,
        api.patch("/v1/tenants/acme", &json!({"status": "active"}), &[]).await,
    );
    step("tenant.activated");
    api.create_tenant(json!({"tenantId": "holding", "name": "Holding"}))
        .await;
    step("tenant.created");
    ok(
        200,
        api.patch("/v1/tenants/acme", &json!({"parentId": "holding"}), &[])
            .await,
    );
    step("tenant.moved");
    let sub = ok(
        201,
        api.post("/v1/tenants/acme/subtenants", &json!({"name": "Sales"})).await,
    )
    .json();
    step("subtenant.created");
    let sub_path = format!("/v1/tenants/acme/subtenants/{}", sub["id"].as_str().unwrap());
    ok(200, api.patch(&sub_path, &json!({"description": "EMEA"}), &[]).await);
    step("subtenant.updated");
    ok(204, api.delete(&sub_path, &[]).await);
    step("subtenant.deleted");
    let member = "/v1/tenants/acme/members/bob";
    ok(201, api.send_json("PUT", member, &json!({"role": "viewer"}), &[]).await);
    step("member.added");
    ok(
        200,
        api.send_json("PUT", member, &json!({"role": "operator"}), &[]).await,
    );
    step("member.updated");
    ok(204, api.delete(member, &[]).await);
    step("member.removed");
    let idp = "/v1/tenants/acme/identity-providers/okta";
    let provider = json!({"type": "oidc", "issuer": "https://login.example.com/acme", "clientId": "acme", "domains": ["acme.example"]});
    ok(201, api.send_json("PUT", idp, &provider, &[]).await);
    step("identity_provider.created");
    ok(204, api.delete(idp, &[]).await);
    step("identity_provider.deleted");
    ok(
        201,
        api.send_json("POST", "/v1/tenants/acme/deployments", &json!({"theme": "dark"}), &[])
            .await,
    );
    step("deployment.created");
    ok(200, api.post("/v1/tenants/acme/retire", &json!({})).await);
    step("tenant.retired");
    ok(200, api.post("/v1/tenants/acme/restore", &json!({})).await);
    step("tenant.restored");
    ok(204, api.delete("/v1/tenants/acme", &[]).await);
    step("tenant.deleted");

    let events = published(
        &api,
        &mut poller,
        &[Consumer::Notifier(&bus)],
        &queue,
        expected.len(),
        Duration::from_secs(20),
    )
    .await;
    // Nothing more comes: what the store kept up by itself (the parent's
    // child count, guards, facets, history, the creator's membership, what
    // went with the deleted tenant, the feed) made no event.
    let late = published(
        &api,
        &mut poller,
        &[Consumer::Notifier(&bus)],
        &queue,
        usize::MAX,
        Duration::from_secs(2),
    )
    .await;
    assert!(late.is_empty(), "unexpected events: {late:#?}");
    assert_eq!(types(&events), expected, "one event per change, in order");

    let ids: std::collections::BTreeSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len(), "every event has its own id");
    for event in &events {
        assert_eq!(
            (event["specversion"].as_str(), event["source"].as_str()),
            (Some("1.0"), Some("/tenancy"))
        );
        assert!(Timestamp::parse(event["time"].as_str().unwrap()).is_some());
    }
    let updated = &events[1];
    assert_eq!(updated["subject"], "acme");
    assert_eq!(updated["data"]["tenant"]["description"], "Rockets");
    assert_eq!(
        updated["data"]["changes"]["description"],
        json!({"before": null, "after": "Rockets"})
    );
    let moved = &events[5];
    assert_eq!(
        moved["data"]["changes"]["parentId"],
        json!({"before": null, "after": "holding"})
    );
    assert_eq!(
        events[10]["data"]["changes"]["role"],
        json!({"before": "viewer", "after": "operator"})
    );
    assert_eq!(events[14]["data"]["deployment"]["version"], 1);

    // The feed holds the same events, with the same ids, in the same order.
    let later = Timestamp::now().plus(time::Duration::seconds(10));
    let feed = api.app().store.feed_page(None, later, 100, |_| true).await.unwrap();
    let feed_ids: Vec<&str> = feed.events.iter().map(|e| e.event["id"].as_str().unwrap()).collect();
    let bus_ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(feed_ids, bus_ids);
}

/// A tenant's insert as a stream record, with the record id given.
fn record(event_id: &str, item: records::Item) -> EventRecord {
    let mut record = EventRecord::default();
    record.event_id = event_id.into();
    record.event_name = "INSERT".into();
    record.change.new_image = item.into();
    record.change.sequence_number = Some(format!("{event_id}-seq"));
    record
}

fn tenant_item(id: &str) -> records::Item {
    let body = json!({"tenantId": id, "name": format!("Tenant {id}")});
    let input =
        shared::domain::TenantInput::parse(body.as_object().unwrap(), shared::domain::tenant::InputMode::Create)
            .unwrap();
    let change = shared::domain::tenant::Stamp {
        actor: "test".into(),
        at: Timestamp::now(),
    };
    let tenant = shared::domain::Tenant::create(input, shared::domain::TenantId::parse(id).unwrap(), &change);
    records::tenant_item(&tenant, 1).unwrap()
}

#[tokio::test]
async fn a_record_delivered_twice_is_one_event_and_internal_items_are_none() {
    let api = spawn_app().await;
    let (bus, queue) = bus().await;
    let mut event = Event::default();
    event.records = vec![record("redelivered-1", tenant_item("acme"))];
    for _ in 0..2 {
        let response = notifier::handle(api.app(), &bus, &event).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let received = local_bus().receive(&queue, Duration::from_secs(2)).await.unwrap();
    let ids: Vec<&str> = received.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|id| *id == "redelivered-1"),
        "{ids:?}"
    );
    assert_eq!(
        api.entity_counts().await.get("changeEvent"),
        Some(&1),
        "the feed holds it once"
    );

    let sent = bus.entries_sent();
    let guard = records::name_guard_item("tenant acme", &shared::domain::TenantId::parse("acme").unwrap());
    event.records = vec![record("guard-1", guard)];
    notifier::handle(api.app(), &bus, &event).await;
    assert_eq!(bus.entries_sent(), sent, "a guard publishes nothing");
    assert_eq!(
        api.entity_counts().await.get("changeEvent"),
        Some(&1),
        "and records nothing"
    );
}

/// An EventBridge stand-in that refuses the first entry of its first
/// `PutEvents` and records how many entries each call carried.
async fn refusing_bus() -> (String, Arc<Mutex<Vec<usize>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = calls.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        let sent: Value = serde_json::from_slice(&body).unwrap_or_default();
                        let count = sent["Entries"].as_array().map_or(0, Vec::len);
                        let first_call = {
                            let mut calls = seen.lock().unwrap();
                            calls.push(count);
                            calls.len() == 1
                        };
                        let entries: Vec<Value> = (0..count)
                            .map(|i| match (first_call, i) {
                                (true, 0) => json!({"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}),
                                _ => json!({"EventId": format!("e-{i}")}),
                            })
                            .collect();
                        let answer = json!({"FailedEntryCount": usize::from(first_call), "Entries": entries});
                        let response = http::Response::builder()
                            .header("content-type", "application/x-amz-json-1.1")
                            .body(Full::new(Bytes::from(answer.to_string())))
                            .unwrap();
                        Ok::<_, hyper::Error>(response)
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    (endpoint, calls)
}

#[tokio::test]
async fn a_refused_entry_is_sent_again_alone() {
    let api = spawn_app().await;
    let (endpoint, calls) = refusing_bus().await;
    let bus = notifier::Bus::new(
        notifier::bus::client(&shared::store::local_sdk_config(), Some(&endpoint)),
        "stand-in",
    );
    let mut event = Event::default();
    event.records = (0..3)
        .map(|i| record(&format!("r-{i}"), tenant_item(&format!("t-{i}"))))
        .collect();
    let response = notifier::handle(api.app(), &bus, &event).await;
    assert!(response.batch_item_failures.is_empty(), "the retry went through");
    assert_eq!(*calls.lock().unwrap(), [3, 1], "only the refused entry went again");
    let counts: BTreeMap<String, usize> = api.entity_counts().await;
    assert_eq!(counts.get("changeEvent"), Some(&3));
}

/// How long a change takes from its write to its event on the bus's queue,
/// locally (the stream read as soon as the write answered): printed, not
/// judged (a loaded machine is slower).
#[tokio::test]
async fn the_delay_from_write_to_published_event() {
    let api = spawn_app().await;
    let (bus, queue) = bus().await;
    let mut poller = StreamPoller::new(&api.endpoint, api.client.clone(), &api.table);
    let mut delays = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        api.create_tenant(json!({"tenantId": format!("d-{i:02}"), "name": format!("Delay {i}")}))
            .await;
        let events = published(
            &api,
            &mut poller,
            &[Consumer::Notifier(&bus)],
            &queue,
            1,
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(types(&events), ["tenant.created"]);
        delays.push(started.elapsed());
    }
    delays.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "write to published event, locally: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} creates)",
        ms(delays[delays.len() / 2]),
        ms(delays[(delays.len() * 99 / 100).min(delays.len() - 1)]),
        ms(delays[delays.len() - 1]),
        delays.len()
    );
}

/// events/notifier-tenant-created.json (for `sam local invoke` and `cargo
/// lambda invoke`) is what the notifier is made for: one tenant.created.
#[tokio::test]
async fn the_sample_stream_event_publishes_one_tenant_created() {
    let api = spawn_app().await;
    let (bus, queue) = bus().await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/notifier-tenant-created.json"
    ))
    .unwrap();
    let event: Event = serde_json::from_str(&text).unwrap();
    assert!(event.records.iter().all(notifier::is_for_the_notifier));
    let response = notifier::handle(api.app(), &bus, &event).await;
    assert!(response.batch_item_failures.is_empty());
    let received = local_bus().receive(&queue, Duration::from_secs(2)).await.unwrap();
    assert_eq!(types(&received), ["tenant.created"]);
    assert_eq!(received[0]["subject"], "globex");
    assert_eq!(received[0]["id"], "a87ff679a2f3e71d9181a67b7542122c");
}

/// A clone, run by the jobs function from the stream (both stream functions
/// fed as deployed): the new tenant is
/// created (when its job succeeds, not while it is provisioning), its
/// configuration deployed, and the job reports `clone.succeeded`.
#[tokio::test]
async fn a_clone_publishes_its_tenant_its_deployment_and_its_success() {
    let api = spawn_app().await;
    let (bus, queue) = bus().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let deployed = api
        .send_json("POST", "/v1/tenants/acme/deployments", &json!({"v": 1}), &[])
        .await;
    assert_eq!(deployed.status, 201);
    let mut poller = StreamPoller::new(&api.endpoint, api.client.clone(), &api.table);
    let both = [Consumer::Jobs, Consumer::Notifier(&bus)];
    let before = published(&api, &mut poller, &both, &queue, 2, Duration::from_secs(20)).await;
    assert_eq!(types(&before), ["tenant.created", "deployment.created"]);

    let body = json!({"environment": "test", "name": "Acme Sandbox", "tenantId": "acme-sandbox"});
    let accepted = api.post("/v1/tenants/acme/clone", &body).await;
    assert_eq!(accepted.status, 202, "{}", String::from_utf8_lossy(&accepted.body));
    let events = published(&api, &mut poller, &both, &queue, 3, Duration::from_secs(20)).await;
    let mut kinds = types(&events);
    kinds.sort();
    assert_eq!(kinds, ["clone.succeeded", "deployment.created", "tenant.created"]);
    assert!(events.iter().all(|e| e["subject"] == "acme-sandbox"), "{events:#?}");
}
