//! The statuses many routes share, reached on every operation the OpenAPI
//! document lists them for: 410 for a purged tenant, 413 for a body over the
//! limit, 415 for a body of the wrong media type; and the conditional ones
//! (304, 412) and the odd 400 that other tests leave out. Together with the
//! other tests and the contract run, every documented status is answered
//! by some test (checked by dev/status-coverage.py in `make test`).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::domain::Timestamp;
use shared::service::cleanup::{self, Run};

use crate::helpers::{spawn_app, Reply, TestApi};
use crate::openapi::{operations, sample_path as path};

/// The operation's first request media type and its documented example.
fn example_body(operation: &Value) -> Option<(String, Vec<u8>)> {
    let content = operation["requestBody"]["content"].as_object()?;
    let (media, body) = content.iter().find(|(m, _)| m.contains("json"))?;
    let example = match &body["example"] {
        Value::Null => body["examples"].as_object()?.values().next()?["value"].clone(),
        example => example.clone(),
    };
    Some((media.clone(), example.to_string().into_bytes()))
}

async fn send(api: &TestApi, route: &str, path: &str, body: Option<(&str, &[u8])>, headers: &[(&str, &str)]) -> Reply {
    let method = route.split_once(' ').unwrap().0;
    api.call(method, path, body, headers).await
}

/// acme with a subtenant, an identity provider, a member and a deployment;
/// `gone`, purged (its tombstone answers 410).
async fn world() -> TestApi {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let setup: [(&str, &str, Value); 4] = [
        (
            "POST",
            "/v1/tenants/acme/subtenants",
            json!({"name": "Team", "code": "team"}),
        ),
        (
            "PUT",
            "/v1/tenants/acme/identity-providers/okta",
            json!({"type": "oidc", "issuer": "https://acme.okta.example", "clientId": "c", "domains": ["acme.example"]}),
        ),
        ("PUT", "/v1/tenants/acme/members/alice", json!({"role": "viewer"})),
        ("POST", "/v1/tenants/acme/deployments", json!({"a": 1})),
    ];
    for (method, path, body) in setup {
        let reply = api.send_json(method, path, &body, &[]).await;
        assert!(reply.status < 300, "{path}: {}", String::from_utf8_lossy(&reply.body));
    }
    api.create_tenant(json!({"tenantId": "gone", "name": "Gone"})).await;
    assert_eq!(api.post("/v1/tenants/gone/retire", &json!({})).await.status, 200);
    let run = Run {
        dry_run: false,
        tenant_ids: None,
        now: Timestamp::now().plus(time::Duration::days(31)),
        retention_days: 30,
        stop_at: Instant::now() + Duration::from_secs(60),
    };
    let summary = cleanup::run(&api.app().store, &run).await.unwrap();
    assert_eq!(summary.purged.len(), 1);
    api
}

fn documents(operation: &Value, status: &str) -> bool {
    operation["responses"].get(status).is_some()
}

#[tokio::test]
async fn gone_too_large_and_wrong_media_type_on_every_route_that_lists_them() {
    let api = world().await;
    let mut wrong = Vec::new();
    let zip_only = |operation: &Value| example_body(operation).is_none() && !operation["requestBody"].is_null();
    for (route, operation) in operations() {
        let body = example_body(&operation);
        let as_body = body.as_ref().map(|(m, b)| (m.as_str(), b.as_slice()));
        if documents(&operation, "410") && !zip_only(&operation) {
            let mut at = path(&route, "gone");
            if route == "GET /v1/subtenants" {
                at.push_str("?tenantId=gone"); // the list of one tenant's subtenants
            }
            let reply = send(&api, &route, &at, as_body, &[]).await;
            if reply.status != 410 {
                wrong.push(format!("{route} on a purged tenant: {} (expected 410)", reply.status));
            }
        }
        if documents(&operation, "413") {
            let media = body.as_ref().map_or("application/json", |(m, _)| m.as_str());
            let big = format!("{{\"padding\": \"{}\"}}", "x".repeat(1 << 20));
            let reply = send(&api, &route, &path(&route, "acme"), Some((media, big.as_bytes())), &[]).await;
            if reply.status != 413 {
                wrong.push(format!("{route} with a 1 MiB body: {} (expected 413)", reply.status));
            }
        }
        if documents(&operation, "415") {
            let reply = send(&api, &route, &path(&route, "acme"), Some(("text/plain", b"hello")), &[]).await;
            if reply.status != 415 {
                wrong.push(format!("{route} with text/plain: {} (expected 415)", reply.status));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn conditional_requests_and_a_bad_name() {
    let api = world().await;
    let etag = |reply: &Reply| reply.header("etag").unwrap().to_owned();
    for path in [
        "/v1/tenants/acme/identity-providers/okta",
        "/v1/tenants/acme/subtenants/team",
    ] {
        let tag = etag(&api.get(path).await);
        let reply = api.call("GET", path, None, &[("if-none-match", &tag)]).await;
        assert_eq!(reply.status, 304, "{path}");
    }
    let stale = [("if-match", "\"999\"")];
    let put = json!({"name": "Team"}).to_string();
    api.call(
        "PUT",
        "/v1/tenants/acme/subtenants/team",
        Some(("application/json", put.as_bytes())),
        &stale,
    )
    .await
    .problem(412);
    assert_eq!(api.post("/v1/tenants/acme/retire", &json!({})).await.status, 200);
    api.call("POST", "/v1/tenants/acme/restore", None, &stale)
        .await
        .problem(412);
    let bad = api.get("/v1/tenants/by-name/%01").await;
    bad.problem(400);
}
