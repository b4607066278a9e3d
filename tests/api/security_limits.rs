//! Issue 17 (security hardening): the limits around the edges.
//!
//! - item 10: change events fit EventBridge whatever the resources hold;
//! - item 11: each function's IAM policy grants exactly the DynamoDB actions
//!   its code calls;
//! - item 14: zip bombs, response headers, duplicate JSON keys.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dev_gateway::stream::{Consumer, StreamPoller};
use serde_json::{json, Value};

use crate::helpers::{local_bus, spawn_app, Reply, TestApi};

#[track_caller]
fn status(reply: &Reply, expected: u16) -> Value {
    assert_eq!(reply.status, expected, "{}", String::from_utf8_lossy(&reply.body));
    if reply.body.is_empty() {
        Value::Null
    } else {
        reply.json()
    }
}

static BUSES: AtomicUsize = AtomicUsize::new(0);

/// A bus (and the queue its rule fills) of the test's own, and the notifier
/// publishing to it.
async fn bus() -> (notifier::Bus, String) {
    let name = format!(
        "limits-{}-{}",
        std::process::id(),
        BUSES.fetch_add(1, Ordering::Relaxed)
    );
    let local = local_bus();
    let created = local.bus_and_queue(&name).await.unwrap();
    (local.notifier_bus(&created.bus), created.queue_url)
}

/// Runs the stream functions on everything the stream holds, until it has
/// been quiet for a few passes (a job's run writes records of its own).
async fn drain_stream(api: &TestApi, consumers: &[Consumer<'_>]) {
    let mut poller = StreamPoller::new(&api.endpoint, api.client.clone(), &api.table);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut quiet = 0;
    while quiet < 3 {
        let read = poller.poll_once(api.app(), consumers).await.unwrap();
        quiet = if read == 0 { quiet + 1 } else { 0 };
        assert!(Instant::now() < deadline, "the stream did not settle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `n` characters `c`.
fn wide(n: usize, c: char) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// A zip of stored entries whose central directory declares `(name, data,
/// declared uncompressed size, method)`; CRCs are 0 (the API lists archives,
/// it does not extract them).
fn zip_declaring(entries: &[(&str, &[u8], u32, u16)]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data, declared, method) in entries {
        let offset = out.len() as u32;
        let header = |signature: u32, central_entry: bool| {
            let mut h = signature.to_le_bytes().to_vec();
            if central_entry {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(method.to_le_bytes());
            h.extend([0u8; 4]); // time, date
            h.extend(0u32.to_le_bytes()); // crc
            h.extend((data.len() as u32).to_le_bytes());
            h.extend(declared.to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            h
        };
        out.extend(header(0x04034b50, false));
        out.extend(name.as_bytes());
        out.extend(*data);
        central.extend(header(0x02014b50, true));
        central.extend([0u8; 6]); // comment length, disk, internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (start, size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend(0x06054b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A zip of stored entries (declared sizes true).
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let declared: Vec<(&str, &[u8], u32, u16)> = entries.iter().map(|(n, d)| (*n, *d, d.len() as u32, 0)).collect();
    zip_declaring(&declared)
}

// ---------------------------------------------------------------- item 10

/// Every change a caller can make as large as the API lets it, through the
/// notifier (as the local poller feeds it) to the bus: each event the feed
/// recorded, as an EventBridge entry, is under 256 KB (the notifier also
/// asserts it of every entry it publishes, in every test), and the large
/// fields became references with their digests.
#[tokio::test]
async fn every_change_event_fits_eventbridge_however_large_the_resources() {
    let api = spawn_app().await;
    let (bus, queue) = bus().await;

    // A tenant with every field at its longest, in 4-byte characters: 50
    // metadata keys and values (about 230 KB), the description, the tags.
    let metadata: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("{i:02}{}", wide(126, '𝄞')), json!(wide(1024, '😀'))))
        .collect();
    let tags: Vec<String> = (0..50).map(|i| format!("{i:02}{}", "t".repeat(62))).collect();
    let big = json!({
        "tenantId": "acme", "name": "Acme", "description": wide(1024, '𝄞'),
        "metadata": metadata, "tags": tags,
    });
    api.create_tenant(big).await;
    // And one whose metadata (ASCII, about 58 KB) changes: the update's view
    // and its changes' before and after carry it three times. (In 4-byte
    // characters the audit history's item of such a change would pass
    // DynamoDB's 400 KB: see the report of issue 17.)
    let ascii: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("{i:02}{}", "k".repeat(126)), json!("v".repeat(1024))))
        .collect();
    api.create_tenant(json!({"tenantId": "wide", "name": "Wide", "metadata": ascii}))
        .await;
    let changed: serde_json::Map<String, Value> = ascii.keys().map(|k| (k.clone(), json!("w".repeat(1024)))).collect();
    status(
        &api.patch(
            "/v1/tenants/wide",
            &json!({"metadata": changed, "description": "d".repeat(1024)}),
            &[],
        )
        .await,
        200,
    );

    // An identity provider with 100 KiB of SAML metadata (quotes: each one
    // doubles in JSON), then replaced by another.
    let xml = |c: &str| {
        let body = c.repeat((100 * 1024 - 64) / c.len());
        format!("<EntityDescriptor>{body}</EntityDescriptor>")
    };
    let idp = "/v1/tenants/acme/identity-providers/corp-saml";
    let saml = |xml: String| json!({"type": "saml", "entityId": "urn:acme", "metadataXml": xml});
    status(&api.send_json("PUT", idp, &saml(xml("\"q\"")), &[]).await, 201);
    status(&api.send_json("PUT", idp, &saml(xml("\"r\"")), &[]).await, 200);

    // The largest JSON configuration, and a zip listing 1000 files with long names.
    let configuration = json!({"blob": "x".repeat(256 * 1024 - 16)});
    status(
        &api.send_json("POST", "/v1/tenants/acme/deployments", &configuration, &[])
            .await,
        201,
    );
    let names: Vec<String> = (0..1000)
        .map(|i| format!("config/{i:04}-{}.json", "n".repeat(48)))
        .collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"{}"[..])).collect();
    let upload = zip(&entries);
    let reply = api
        .call(
            "POST",
            "/v1/tenants/acme/deployments",
            Some(("application/zip", &upload)),
            &[],
        )
        .await;
    status(&reply, 201);

    // A clone of it all (its job's event), a member, and the forced delete
    // (the tenant's view once more).
    let job = status(
        &api.post(
            "/v1/tenants/acme/clone",
            &json!({"environment": "test", "name": "Acme Sandbox", "tenantId": "acme-sandbox"}),
        )
        .await,
        202,
    );
    drain_stream(&api, &[Consumer::Jobs, Consumer::Notifier(&bus)]).await;
    let finished = status(
        &api.get(&format!("/v1/jobs/{}", job["jobId"].as_str().unwrap())).await,
        200,
    );
    assert_eq!(finished["status"], "succeeded", "{finished}");
    status(
        &api.send_json("PUT", "/v1/tenants/acme/members/bob", &json!({"role": "viewer"}), &[])
            .await,
        201,
    );
    status(&api.delete("/v1/tenants/acme?force=true", &[]).await, 200);
    drain_stream(&api, &[Consumer::Jobs, Consumer::Notifier(&bus)]).await;

    // Every recorded event, as the entry the notifier sends.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut largest = 0;
    for item in api.scan().await {
        if item["entityType"].as_s().unwrap() != "changeEvent" {
            continue;
        }
        let cloud: Value = serde_json::from_str(item["event"].as_s().unwrap()).unwrap();
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source(notifier::bus::SOURCE)
            .detail_type(cloud["type"].as_str().unwrap())
            .detail(cloud.to_string())
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(0))
            .build();
        let size = notifier::bus::entry_size(&entry);
        assert!(size < notifier::bus::MAX_ENTRY_BYTES, "{}: {size} bytes", cloud["type"]);
        assert!(size <= shared::domain::events::MAX_EVENT_BYTES + 100);
        largest = largest.max(size);
        *kinds.entry(cloud["type"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    for kind in [
        "tenant.created",
        "tenant.updated",
        "identity_provider.created",
        "identity_provider.updated",
        "deployment.created",
        "clone.succeeded",
        "member.added",
        "tenant.deleted",
    ] {
        assert!(kinds.contains_key(&format!("io.tenancy.{kind}")), "{kind}: {kinds:?}");
    }

    // What the bus delivered: the references, with the digest of the value.
    let mut delivered = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && !delivered
            .iter()
            .any(|e: &Value| e["type"] == "io.tenancy.identity_provider.updated")
    {
        delivered.extend(local_bus().receive(&queue, Duration::from_millis(300)).await.unwrap());
    }
    let updated = delivered
        .iter()
        .find(|e| e["type"] == "io.tenancy.identity_provider.updated")
        .expect("the update was published");
    let after = &updated["data"]["changes"]["metadataXml"]["after"];
    let expected = xml("\"r\"");
    assert_eq!(after["omitted"], true, "{after}");
    assert_eq!(after["bytes"], expected.len());
    assert_eq!(
        after["sha256"],
        shared::domain::deployment::sha256_hex(expected.as_bytes())
    );
    assert_eq!(after["href"], "/v1/tenants/acme/identity-providers/corp-saml");
    assert!(largest > 0);
}

// ---------------------------------------------------------------- item 14

/// A zip that declares more than it can hold is refused before anything is
/// stored: 400, a stable code, and the reason under `body`.
#[tokio::test]
async fn a_zip_declaring_too_much_uncompressed_or_too_high_a_ratio_is_refused() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let upload = |bytes: Vec<u8>| {
        let api = &api;
        async move {
            api.call(
                "POST",
                "/v1/tenants/acme/deployments",
                Some(("application/zip", &bytes)),
                &[],
            )
            .await
        }
    };
    let before = api.scan().await.len();

    // The finding: a 102 KB zip declaring 100 MB.
    let data = vec![b'x'; 102 * 1024];
    let reply = upload(zip_declaring(&[("config/huge.json", &data, 100_000_000, 8)])).await;
    let problem = reply.problem(400);
    assert_eq!(problem["type"], "/problems/zip-expands-too-much", "{problem}");
    assert_eq!(reply.error_fields().first().map(String::as_str), Some("body"));
    assert!(problem.to_string().contains("16777216"), "names the limit: {problem}");

    // Each entry under the ratio, 18 MiB in all.
    let chunk = vec![b'y'; 100 * 1024];
    let reply = upload(zip_declaring(&[
        ("a.json", &chunk, 9 << 20, 8),
        ("b.json", &chunk, 9 << 20, 8),
    ]))
    .await;
    let problem = reply.problem(400);
    assert_eq!(problem["type"], "/problems/zip-expands-too-much");
    assert!(
        problem["errors"][0]["message"].as_str().unwrap().contains("in all"),
        "{problem}"
    );

    // One entry at 1024:1.
    let zeros = vec![b'0'; 2048];
    let reply = upload(zip_declaring(&[
        ("ok.json", b"{}", 2, 0),
        ("zeros.bin", &zeros, 2 << 20, 8),
    ]))
    .await;
    let problem = reply.problem(400);
    assert!(
        problem.to_string().contains("zeros.bin") && problem.to_string().contains("100:1"),
        "{problem}"
    );

    assert_eq!(api.scan().await.len(), before, "nothing stored");
    // An honest archive still deploys.
    status(&upload(zip(&[("config/main.json", b"{\"a\":1}")])).await, 201);
}

/// Every answer of a function says `nosniff`; every one but the public API
/// document (cacheable) says `no-store`: tenant data never sits in a shared
/// or browser cache. The dev gateway's own pages say `nosniff` too.
#[tokio::test]
async fn responses_say_nosniff_and_authenticated_answers_are_never_stored() {
    let api = spawn_app().await;
    let created = api
        .post("/v1/tenants", &json!({"tenantId": "acme", "name": "Acme"}))
        .await;
    let etag = created.header("etag").unwrap().to_owned();
    let sub = status(
        &api.post("/v1/tenants/acme/subtenants", &json!({"name": "Sales"})).await,
        201,
    );
    let deployed = api
        .send_json("POST", "/v1/tenants/acme/deployments", &json!({"a": 1}), &[])
        .await;
    let replies = vec![
        ("create", created),
        ("deploy", deployed),
        ("get", api.get("/v1/tenants/acme").await),
        (
            "not modified",
            api.call("GET", "/v1/tenants/acme", None, &[("if-none-match", &etag)])
                .await,
        ),
        ("by name", api.get("/v1/tenants/by-name/Acme").await),
        ("list", api.get("/v1/tenants").await),
        ("mine", api.get("/v1/tenants/mine").await),
        (
            "patch",
            api.patch("/v1/tenants/acme", &json!({"description": "x"}), &[]).await,
        ),
        ("subtenants", api.get("/v1/tenants/acme/subtenants").await),
        (
            "identity providers",
            api.get("/v1/tenants/acme/identity-providers").await,
        ),
        (
            "download",
            api.get("/v1/tenants/acme/deployments/1?download=true").await,
        ),
        ("events", api.get("/v1/events").await),
        ("history", api.get("/v1/tenants/acme/events").await),
        ("not found", api.get("/v1/tenants/nobody").await),
        ("invalid", api.post("/v1/tenants", &json!({"name": ""})).await),
        (
            "delete",
            api.delete(
                &format!("/v1/tenants/acme/subtenants/{}", sub["id"].as_str().unwrap()),
                &[],
            )
            .await,
        ),
    ];
    for (what, reply) in &replies {
        assert!(reply.status < 500, "{what}: {}", reply.status);
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{what} ({})",
            reply.status
        );
        assert_eq!(
            reply.header("cache-control"),
            Some("no-store"),
            "{what} ({})",
            reply.status
        );
    }
    let document = api
        .call("GET", "/v1/openapi.json", None, &[("authorization", "")])
        .await;
    assert_eq!(document.status, 200);
    assert_eq!(document.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        document.header("cache-control"),
        Some("public, max-age=3600"),
        "the public document stays cacheable"
    );
    let page = dev_gateway::docs::answer("GET", "/docs").unwrap();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
}

/// A key given twice in one object, at any depth, is refused (400, the
/// key's path listed) rather than silently read as its last value: a
/// proxy or validator in front may have read the first.
#[tokio::test]
async fn a_body_with_a_duplicate_key_at_any_depth_is_refused_with_its_path() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let raw = |method: &'static str, path: &'static str, content_type: &'static str, body: &'static str| {
        let api = &api;
        async move { api.call(method, path, Some((content_type, body.as_bytes())), &[]).await }
    };
    let before = api.scan().await;
    let cases = [
        (
            "POST",
            "/v1/tenants",
            "application/json",
            r#"{"name": "Acme 2", "name": "Admin"}"#,
            "name",
        ),
        (
            "POST",
            "/v1/tenants",
            "application/json",
            r#"{"name": "Acme 3", "contactInformation": {"email": "a@acme.example", "email": "b@evil.example"}}"#,
            "contactInformation.email",
        ),
        (
            "PATCH",
            "/v1/tenants/acme",
            "application/merge-patch+json",
            r#"{"description": "x", "metadata": {"k": "1", "k": "2"}}"#,
            "metadata.k",
        ),
        (
            "PUT",
            "/v1/tenants/acme",
            "application/json",
            r#"{"name": "Acme", "description": "a", "description": "b"}"#,
            "description",
        ),
        (
            "PUT",
            "/v1/tenants/acme/identity-providers/okta",
            "application/json",
            r#"{"type": "oidc", "issuer": "https://login.example.com", "clientId": "c", "domains": [], "x": [{"a": 1, "a": 2}]}"#,
            "x[0].a",
        ),
        (
            "POST",
            "/v1/tenants/acme/deployments",
            "application/json",
            r#"{"products": {"rating": 1, "rating": 2}}"#,
            "products.rating",
        ),
    ];
    for (method, path, content_type, body, field) in cases {
        let reply = raw(method, path, content_type, body).await;
        reply.problem(400);
        assert_eq!(
            reply.error_fields(),
            [field],
            "{method} {path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(reply.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than once"));
    }
    assert_eq!(api.scan().await.len(), before.len(), "nothing written");
    // The same keys once each are fine.
    status(
        &raw(
            "PATCH",
            "/v1/tenants/acme",
            "application/merge-patch+json",
            r#"{"metadata": {"k": "1", "l": "1"}}"#,
        )
        .await,
        200,
    );
}

// ---------------------------------------------------------------- item 11

/// Grants a function may hold without the workload below using them, and
/// why. (None today: every grant is used.)
const UNUSED_GRANTS: &[(&str, &str, &str)] = &[];

/// Store files whose DynamoDB calls no function makes: the invariant
/// checker's `Scan` (tests and `make check-table`), the local table set-up.
const NOT_FUNCTION_CODE: &[&str] = &["invariants.rs", "table.rs"];

fn sample_event(name: &str) -> String {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every route's sample event (in the walk-through's order) through its
/// function, then the flows that reach the store's other paths: a move, a
/// rename with children, reseller propagation, every list index, domain
/// changes, a forced delete of a furnished subtree, clones run by the
/// stream, the notifier on every kind of record (removals included), a
/// purge by the clean-up. Each function's DynamoDB requests are recorded as
/// the IAM actions they need (`shared::store::iam`), and the gateway checks
/// each against template.yaml (a request it does not grant fails the flow).
async fn every_functions_workload(api: &TestApi) {
    let (bus, _queue) = bus().await;
    let consumers = [Consumer::Jobs, Consumer::Notifier(&bus)];
    // In parts: one future of it all overflows a debug build's stack.
    Box::pin(walk_the_samples(api, &bus)).await;
    Box::pin(furnish_list_and_change(api)).await;
    Box::pin(as_a_member(api)).await;
    Box::pin(clone_fail_and_clean_up(api, &consumers)).await;
}

fn ok(expected: u16) -> impl Fn(Reply) -> Value {
    move |reply: Reply| status(&reply, expected)
}

/// Part 1: every sample event, as Lambda would deliver it.
async fn walk_the_samples(api: &TestApi, bus: &notifier::Bus) {
    use dev_gateway::routes::Function;
    let mut job_id = crate::helpers::SAMPLE_JOB_ID.to_owned();
    for (name, expected) in crate::events::WALK_THROUGH {
        if *name == "jobs-get" {
            let queued = sample_event("jobs-queued").replace(crate::helpers::SAMPLE_JOB_ID, &job_id);
            let stream: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(&queued).unwrap();
            Consumer::Jobs.handle(api.app(), &stream).await;
        }
        let event = sample_event(name).replace(crate::helpers::SAMPLE_JOB_ID, &job_id);
        let route: Value = serde_json::from_str(&event).unwrap();
        let function = Function::of_route(route["routeKey"].as_str().unwrap()).unwrap();
        let request = lambda_http::request::from_str(&event).unwrap();
        let response = function.invoke(api.app(), request).await;
        assert_eq!(response.status().as_u16(), *expected, "{name}");
        if *name == "tenants-clone" {
            if let lambda_http::Body::Text(body) = response.body() {
                job_id = serde_json::from_str::<Value>(body).unwrap()["jobId"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            }
        }
    }
    let notifier_sample: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_str(&sample_event("notifier-tenant-created")).unwrap();
    Consumer::Notifier(bus).handle(api.app(), &notifier_sample).await;
}

/// Part 2: the flows through the gateway: furnished tenants, every list, moves,
/// renames, propagation, members, providers, domains.
async fn furnish_list_and_change(api: &TestApi) {
    ok(201)(api.post("/v1/tenants", &json!({"tenantId": "root", "name": "Root", "resellerId": "r1", "tags": ["gold"], "externalIds": {"1": "X"}})).await);
    ok(201)(
        api.post(
            "/v1/tenants",
            &json!({"tenantId": "mid", "name": "Mid", "parentId": "root"}),
        )
        .await,
    );
    ok(201)(
        api.post(
            "/v1/tenants",
            &json!({"tenantId": "leaf", "name": "Leaf", "parentId": "mid", "configuration": {"a": 1}}),
        )
        .await,
    );
    ok(201)(
        api.post("/v1/tenants", &json!({"tenantId": "other", "name": "Other"}))
            .await,
    );
    ok(201)(
        api.send_json(
            "POST",
            "/v1/tenants",
            &json!({"name": "Keyed"}),
            &[("idempotency-key", "k-1")],
        )
        .await,
    );
    ok(201)(
        api.send_json(
            "POST",
            "/v1/tenants",
            &json!({"name": "Keyed"}),
            &[("idempotency-key", "k-1")],
        )
        .await,
    );
    for sub in ["Sales", "Support", "Ops"] {
        ok(201)(
            api.post("/v1/tenants/root/subtenants", &json!({"name": sub, "resellerId": "r1"}))
                .await,
        );
    }
    ok(201)(
        api.post("/v1/tenants/mid/subtenants", &json!({"name": "Mid Sales"}))
            .await,
    );
    for query in [
        "",
        "sort=name desc",
        "sort=createdAt asc",
        "parentId=root",
        "resellerId=r1",
        "tags=gold",
        "externalId=1:X",
        "identityProviderId=okta",
        "status=retired",
        "name=ro",
        "includeTotal=true",
        "environment=test",
        "type=Enterprise",
        "limit=1",
        "page=2&limit=1",
    ] {
        ok(200)(api.get(&format!("/v1/tenants?{}", query.replace(' ', "%20"))).await);
    }
    ok(200)(api.get("/v1/tenants/root/subtenants?limit=1&offset=1").await);
    ok(200)(api.get("/v1/subtenants?limit=1").await);
    ok(200)(api.get("/v1/tenants/leaf/ancestors").await);
    ok(200)(api.get("/v1/tenants/root/children").await);
    ok(200)(api.get("/v1/tenants/mine").await);
    // Rename (children follow), reseller propagation, a move of a subtree, status.
    ok(200)(
        api.patch(
            "/v1/tenants/root",
            &json!({"name": "Root Renamed", "resellerId": "r2"}),
            &[],
        )
        .await,
    );
    ok(200)(
        api.patch(
            "/v1/tenants/root?forceResellerIdToGroups=true",
            &json!({"resellerId": "r3"}),
            &[],
        )
        .await,
    );
    ok(200)(api.patch("/v1/tenants/mid", &json!({"parentId": "other"}), &[]).await);
    ok(200)(api.patch("/v1/tenants/mid", &json!({"parentId": "root"}), &[]).await);
    ok(200)(api.patch("/v1/tenants/leaf", &json!({"status": "inactive"}), &[]).await);
    // Members.
    let member = "/v1/tenants/mid/members/bob";
    ok(201)(api.send_json("PUT", member, &json!({"role": "viewer"}), &[]).await);
    ok(200)(api.send_json("PUT", member, &json!({"role": "operator"}), &[]).await);
    ok(200)(api.get("/v1/tenants/mid/members").await);
    // Identity providers: domains claimed, changed, released; mappings; removal.
    let idp = "/v1/tenants/mid/identity-providers/okta";
    let oidc = |domains: Value| json!({"type": "oidc", "issuer": "https://login.example.com/mid", "clientId": "mid", "domains": domains});
    ok(201)(
        api.send_json("PUT", idp, &oidc(json!(["mid.example", "old.example"])), &[])
            .await,
    );
    ok(200)(
        api.send_json("PUT", idp, &oidc(json!(["mid.example", "new.example"])), &[])
            .await,
    );
    ok(201)(
        api.call("PUT", &format!("{idp}/groups/admins/group:admins"), None, &[])
            .await,
    );
    ok(201)(api.call("PUT", &format!("{idp}/groups/ops/group:ops"), None, &[]).await);
    ok(204)(api.delete(&format!("{idp}/groups/ops"), &[]).await);
    ok(200)(api.get("/v1/identity-providers/by-domain/new.example").await);
    ok(201)(
        api.send_json(
            "PUT",
            "/v1/tenants/leaf/identity-providers/saml",
            &json!({"type": "saml", "entityId": "urn:leaf", "metadataUrl": "https://idp.example/m"}),
            &[],
        )
        .await,
    );
    ok(204)(api.delete("/v1/tenants/leaf/identity-providers/saml", &[]).await);
    // A provider removed with its mappings (they go after it).
    let temp = "/v1/tenants/root/identity-providers/temp";
    ok(201)(api.send_json("PUT", temp, &json!({"type": "oidc", "issuer": "https://login.example.com/t", "clientId": "t", "domains": ["temp.example"]}), &[]).await);
    for group in ["a", "b", "c"] {
        ok(201)(
            api.call("PUT", &format!("{temp}/groups/{group}/group:{group}"), None, &[])
                .await,
        );
    }
    ok(204)(api.delete(temp, &[]).await);
}

/// Part 3: a member (admin of root, no platform role) on each function's
/// routes: the access checks read memberships and ancestors.
async fn as_a_member(api: &TestApi) {
    ok(201)(
        api.send_json("PUT", "/v1/tenants/root/members/carol", &json!({"role": "admin"}), &[])
            .await,
    );
    let carol = crate::helpers::token_for("carol", &[], crate::helpers::ADMIN_SCOPE);
    let bearer = format!("Bearer {carol}");
    let as_carol = |method: &'static str, path: String, body: Option<Value>| {
        let bearer = bearer.clone();
        async move {
            let text = body.map(|b| b.to_string());
            let body = text.as_ref().map(|t| ("application/json", t.as_bytes()));
            api.call(method, &path, body, &[("authorization", &bearer)]).await
        }
    };
    for path in [
        "/v1/tenants/leaf",
        "/v1/tenants?limit=5",
        "/v1/tenants?parentId=root",
        "/v1/tenants/mine",
        "/v1/tenants/root/children",
        "/v1/tenants/leaf/ancestors",
        "/v1/tenants/mid/members",
        "/v1/tenants/mid/events",
        "/v1/events?limit=5",
        "/v1/tenants/root/subtenants",
        "/v1/subtenants?limit=5",
        "/v1/tenants/mid/identity-providers",
        "/v1/tenants/mid/identity-providers/okta",
        "/v1/tenants/mid/identity-providers/okta/groups",
        "/v1/tenants/leaf/deployments",
        "/v1/tenants/leaf/deployments/1",
    ] {
        ok(200)(as_carol("GET", path.to_owned(), None).await);
    }
    ok(201)(
        as_carol(
            "POST",
            "/v1/tenants".into(),
            Some(json!({"tenantId": "c-kid", "name": "C Kid", "parentId": "mid"})),
        )
        .await,
    );
    ok(200)(
        as_carol(
            "PUT",
            "/v1/tenants/c-kid".into(),
            Some(json!({"name": "C Kid", "description": "x"})),
        )
        .await,
    );
    ok(201)(
        as_carol(
            "PUT",
            "/v1/tenants/c-kid/members/dan".into(),
            Some(json!({"role": "viewer"})),
        )
        .await,
    );
    let c_sub = ok(201)(
        as_carol(
            "POST",
            "/v1/tenants/c-kid/subtenants".into(),
            Some(json!({"name": "C Sales"})),
        )
        .await,
    );
    let c_sub = format!("/v1/tenants/c-kid/subtenants/{}", c_sub["id"].as_str().unwrap());
    ok(200)(
        as_carol(
            "PUT",
            c_sub.clone(),
            Some(json!({"name": "C Sales", "description": "d"})),
        )
        .await,
    );
    ok(204)(as_carol("DELETE", c_sub, None).await);
    let c_idp = "/v1/tenants/c-kid/identity-providers/c-idp".to_owned();
    ok(201)(as_carol("PUT", c_idp.clone(), Some(json!({"type": "oidc", "issuer": "https://login.example.com/c", "clientId": "c", "domains": ["c.example"]}))).await);
    ok(201)(as_carol("PUT", format!("{c_idp}/groups/x/group:x"), None).await);
    ok(204)(as_carol("DELETE", format!("{c_idp}/groups/x"), None).await);
    ok(204)(as_carol("DELETE", c_idp, None).await);
    ok(201)(as_carol("POST", "/v1/tenants/c-kid/deployments".into(), Some(json!({"c": 1}))).await);
    let c_job = ok(202)(
        as_carol(
            "POST",
            "/v1/tenants/c-kid/clone".into(),
            Some(json!({"environment": "test", "name": "C Clone", "tenantId": "c-clone"})),
        )
        .await,
    );
    ok(200)(as_carol("GET", format!("/v1/jobs/{}", c_job["jobId"].as_str().unwrap()), None).await);
    ok(200)(as_carol("POST", "/v1/tenants/c-kid/retire".into(), Some(json!({}))).await);
    ok(200)(as_carol("POST", "/v1/tenants/c-kid/restore".into(), None).await);
    ok(204)(as_carol("DELETE", "/v1/tenants/c-kid/members/dan".into(), None).await);
}

/// Part 4: deployments and clones run by the stream (one failing), what the
/// clean-up finishes and purges, the forced delete of the furnished tree.
async fn clone_fail_and_clean_up(api: &TestApi, consumers: &[Consumer<'_>]) {
    use shared::store::iam::as_function;
    ok(201)(
        api.send_json("POST", "/v1/tenants/mid/deployments", &json!({"v": 1}), &[])
            .await,
    );
    ok(201)(
        api.call(
            "POST",
            "/v1/tenants/mid/deployments",
            Some(("application/zip", &zip(&[("a.json", b"{}")]))),
            &[],
        )
        .await,
    );
    ok(200)(api.get("/v1/tenants/mid/deployments?limit=1").await);
    ok(202)(
        api.post(
            "/v1/tenants/mid/clone",
            &json!({"environment": "test", "name": "Mid Clone", "tenantId": "mid-clone"}),
        )
        .await,
    );
    // A clone two levels down (under mid, below root), into production.
    ok(201)(
        api.send_json("POST", "/v1/tenants/leaf/deployments", &json!({"v": 2}), &[])
            .await,
    );
    ok(202)(
        api.post(
            "/v1/tenants/leaf/clone",
            &json!({"environment": "production", "name": "Leaf Clone", "tenantId": "leaf-clone"}),
        )
        .await,
    );
    drain_stream(api, consumers).await;
    // The feed and the history.
    ok(200)(api.get("/v1/events?limit=5").await);
    ok(200)(api.get("/v1/tenants/mid/events").await);
    // A clone whose source is deleted before its job runs: the job fails
    // and removes the unfinished tenant.
    ok(201)(
        api.post("/v1/tenants", &json!({"tenantId": "src", "name": "Src"}))
            .await,
    );
    ok(202)(
        api.post(
            "/v1/tenants/src/clone",
            &json!({"environment": "test", "name": "Src Clone", "tenantId": "src-clone"}),
        )
        .await,
    );
    ok(204)(api.delete("/v1/tenants/src", &[]).await);
    drain_stream(api, consumers).await;
    ok(404)(api.get("/v1/tenants/src-clone").await);

    // What else the clean-up finishes: work requests were cut off from (one
    // pending item of each kind, as a cut-off request leaves it), and a
    // clone job nothing ran (its stream record lost).
    use shared::domain::{TenantId, Timestamp};
    use shared::store::work::{Pending, Work};
    let id = |s: &str| TenantId::parse(s).unwrap();
    ok(201)(
        api.post("/v1/tenants", &json!({"tenantId": "p-root", "name": "P Root"}))
            .await,
    );
    ok(201)(
        api.post(
            "/v1/tenants",
            &json!({"tenantId": "p-child", "name": "P Child", "parentId": "p-root"}),
        )
        .await,
    );
    ok(201)(
        api.post(
            "/v1/tenants",
            &json!({"tenantId": "p-grand", "name": "P Grand", "parentId": "p-child"}),
        )
        .await,
    );
    ok(201)(
        api.post(
            "/v1/tenants/p-child/subtenants",
            &json!({"name": "P Sales", "resellerId": "r1"}),
        )
        .await,
    );
    let cut_off = [
        Work::MoveSubtree {
            tenant_id: id("p-child"),
            old_root: id("p-root"),
            old_path: "p-root/p-child".into(),
        },
        Work::RenameChildren {
            tenant_id: id("p-root"),
        },
        Work::PropagateReseller {
            tenant_id: id("p-child"),
            old: Some("r1".into()),
            new: Some("r1".into()),
            force: false,
        },
        Work::DeleteOwned {
            tenant_id: id("p-gone"),
            incarnation: Timestamp::now(),
            identity_providers: true,
            deployments: true,
        },
        Work::DeleteGroupMappings {
            tenant_id: id("p-child"),
            identity_provider_id: shared::domain::identity_provider::IdpId::parse("gone").unwrap(),
            provider_created_at: Timestamp::now(),
        },
    ];
    for work in cut_off {
        let item = Pending::new(work).item().unwrap();
        api.client
            .put_item()
            .table_name(&api.table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    ok(202)(
        api.post(
            "/v1/tenants/p-child/clone",
            &json!({"environment": "test", "name": "P Clone", "tenantId": "p-clone"}),
        )
        .await,
    );
    let later = shared::service::cleanup::Run {
        dry_run: false,
        tenant_ids: None,
        now: Timestamp::now().plus(time::Duration::hours(2)),
        retention_days: 30,
        stop_at: Instant::now() + Duration::from_secs(60),
    };
    let summary = as_function("cleanup", shared::service::cleanup::run(&api.app().store, &later))
        .await
        .unwrap();
    assert!(
        summary.pending_finished >= 5 && summary.jobs_finished == 1,
        "{summary:?}"
    );
    drain_stream(api, consumers).await;

    // Retire and purge (the clean-up), a dry run first, by orders too.
    ok(200)(api.post("/v1/tenants/other/retire", &json!({"reason": "gone"})).await);
    ok(200)(api.get("/v1/tenants?status=retired").await);
    let settings = cleanup_fn::Settings {
        retention_days: 0,
        margin: Duration::from_secs(1),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    ok(201)(
        api.post("/v1/tenants", &json!({"tenantId": "old", "name": "Old"}))
            .await,
    );
    ok(200)(api.post("/v1/tenants/old/retire", &json!({})).await);
    for event in [
        json!({"dryRun": true}),
        json!({"tenantIds": ["old"]}),
        json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
    ] {
        let summary = as_function("cleanup", cleanup_fn::handle(api.app(), &settings, &event, deadline)).await;
        summary.unwrap();
    }
    ok(410)(api.get("/v1/tenants/other").await);
    ok(410)(api.get("/v1/tenants/old").await);
    // A dry run, then the forced delete of the furnished subtree (the clone
    // went under root too: the source's parent).
    ok(200)(api.delete("/v1/tenants/root?force=true&dryRun=true", &[]).await);
    ok(200)(api.delete("/v1/tenants/root?force=true", &[]).await);
    drain_stream(api, consumers).await;
}

/// Every DynamoDB action each function's code calls is granted to it by
/// template.yaml, and nothing more (but the listed exceptions): the actions
/// are what the functions' requests needed over the whole workload above
/// (and, through the gateway's check, over every other test as well), and
/// the workload reaches every kind of call each store file makes.
#[tokio::test]
async fn every_function_is_granted_exactly_the_dynamodb_actions_its_code_calls() {
    use std::collections::BTreeSet;

    let api = spawn_app().await;
    every_functions_workload(&api).await;
    let used = api.app().store.requests().used();
    let template = std::fs::read_to_string(dev_gateway::iam::template_path()).unwrap();
    let granted = dev_gateway::iam::grants(&template).unwrap().0;
    let names = |needs: &BTreeSet<shared::store::iam::Need>| -> BTreeSet<String> {
        needs.iter().map(ToString::to_string).collect()
    };
    let exempt = |function: &str, need: &str| UNUSED_GRANTS.iter().any(|(f, n, _)| *f == function && *n == need);
    let mut report = Vec::new();
    for (function, granted) in &granted {
        let used = used.get(function).map(names).unwrap_or_default();
        let granted = names(granted);
        for missing in used.difference(&granted) {
            report.push(format!(
                "{function}: calls {missing}, which template.yaml does not grant"
            ));
        }
        for extra in granted.difference(&used) {
            if !exempt(function, extra) {
                report.push(format!("{function}: is granted {extra}, which it never calls"));
            }
        }
    }
    for function in used.keys() {
        if !granted.contains_key(function) {
            report.push(format!("{function}: sends requests but is not in template.yaml"));
        }
    }
    assert!(
        report.is_empty(),
        "template.yaml's policies and the code disagree:\n  {}",
        report.join("\n  ")
    );
    for (function, need, _) in UNUSED_GRANTS {
        assert!(
            granted.get(*function).is_some_and(|g| names(g).contains(*need)),
            "{function} {need}: a stale exception"
        );
    }

    // Every kind of DynamoDB call the store's code makes, by file, was made.
    let all_used: BTreeSet<String> = used
        .values()
        .flat_map(|needs| needs.iter().map(|n| n.action.clone()))
        .collect();
    let calls = [
        (".get_item()", "GetItem"),
        (".batch_get_item()", "BatchGetItem"),
        (".put_item()", "PutItem"),
        (".update_item()", "UpdateItem"),
        (".delete_item()", "DeleteItem"),
        (".batch_write_item()", "BatchWriteItem"),
        (".query()", "Query"),
        (".scan()", "Scan"),
        (".transact_get_items()", "GetItem"),
        ("TransactWriteItem::builder().put(", "PutItem"),
        ("TransactWriteItem::builder().update(", "UpdateItem"),
        ("TransactWriteItem::builder().delete(", "DeleteItem"),
        ("TransactWriteItem::builder().condition_check(", "ConditionCheckItem"),
        ("fn put_action", "PutItem"),
        ("fn put_new", "PutItem"),
    ];
    let store = format!("{}/../shared/src/store", env!("CARGO_MANIFEST_DIR"));
    let mut unexercised = Vec::new();
    for entry in std::fs::read_dir(&store).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if NOT_FUNCTION_CODE.contains(&file.as_str()) {
            continue;
        }
        let text: String = std::fs::read_to_string(&path)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("");
        for (call, action) in calls {
            let compact: String = call.split_whitespace().collect();
            if text.contains(&compact) && !all_used.contains(&format!("dynamodb:{action}")) {
                unexercised.push(format!("{file}: {call} ({action})"));
            }
        }
    }
    assert!(
        unexercised.is_empty(),
        "the workload never makes these calls: {unexercised:?}"
    );
}
