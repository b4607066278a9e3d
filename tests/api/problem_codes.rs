//! Every problem carries a stable `code` a program can branch on: here each
//! code a client can cause is caused, once, and its status and code are
//! checked. (`make test` then checks that every code the OpenAPI document
//! lists was answered by some test: dev/status-coverage.py.)

use serde_json::{json, Value};

use crate::helpers::{spawn_app, token_for, Reply, TestApi, ADMIN_SCOPE};

async fn as_bob(api: &TestApi, scope: &str, method: &str, path: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {}", token_for("bob", &[], scope));
    api.send_json(method, path, body, &[("authorization", auth.as_str())])
        .await
}

fn idp(issuer: &str, domain: &str) -> Value {
    json!({"type": "oidc", "issuer": issuer, "clientId": "c", "domains": [domain]})
}

#[tokio::test]
async fn each_code_a_request_can_cause_is_answered_with_its_status() {
    let api = &spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.create_tenant(json!({"tenantId": "child", "name": "Child", "parentId": "acme"}))
        .await;
    api.create_tenant(json!({"tenantId": "other", "name": "Other"})).await;

    // 400s
    let reply = api.post("/v1/tenants", &json!({"name": ""})).await;
    assert_eq!(reply.code(400), "validation_failed");
    let reply = api
        .call("POST", "/v1/tenants", Some(("application/json", b"{not json")), &[])
        .await;
    assert_eq!(reply.code(400), "malformed_body");
    let reply = api
        .patch(
            "/v1/tenants/acme",
            &json!({"description": "x"}),
            &[("if-match", "three")],
        )
        .await;
    assert_eq!(reply.code(400), "malformed_header");
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(shared::http::body::MAX_BODY_BYTES));
    let reply = api
        .call("POST", "/v1/tenants", Some(("application/json", big.as_bytes())), &[])
        .await;
    assert_eq!(reply.code(413), "payload_too_large");
    let reply = api
        .call("POST", "/v1/tenants", Some(("text/plain", b"name=x")), &[])
        .await;
    assert_eq!(reply.code(415), "unsupported_media_type");

    // 401 from the function (API Gateway answers a missing token itself).
    let smuggled = format!("Bearer {}", token_for("eve", &["not[admin"], ADMIN_SCOPE));
    let reply = api
        .call("GET", "/v1/tenants", None, &[("authorization", smuggled.as_str())])
        .await;
    assert_eq!(reply.code(401), "invalid_claim");

    // 403s
    let reply = as_bob(api, "tenants:read", "POST", "/v1/tenants", &json!({"name": "Bobs"})).await;
    assert_eq!(reply.code(403), "permission_missing");
    let reply = as_bob(api, ADMIN_SCOPE, "POST", "/v1/tenants", &json!({"name": "Bobs"})).await;
    assert_eq!(reply.code(403), "platform_admin_required");
    let reply = api
        .send_json("PUT", "/v1/tenants/acme/members/bob", &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(reply.status, 201);
    let reply = as_bob(
        api,
        ADMIN_SCOPE,
        "PATCH",
        "/v1/tenants/acme",
        &json!({"description": "x"}),
    )
    .await;
    assert_eq!(reply.code(403), "role_too_low");
    let long_subject = format!("Bearer {}", token_for(&"s".repeat(300), &[], ADMIN_SCOPE));
    let reply = api
        .call(
            "GET",
            "/v1/tenants/mine",
            None,
            &[("authorization", long_subject.as_str())],
        )
        .await;
    assert_eq!(reply.code(403), "invalid_subject");

    // 404
    assert_eq!(api.get("/v1/tenants/nowhere").await.code(404), "not_found");

    // 409s, each a conflict with what the client asked for.
    let reply = api.post("/v1/tenants", &json!({"name": "ACME"})).await;
    assert_eq!(reply.code(409), "name_taken");
    let reply = api
        .post("/v1/tenants", &json!({"tenantId": "acme", "name": "Another"}))
        .await;
    assert_eq!(reply.code(409), "id_taken");
    let subtenant = json!({"name": "Sales", "code": "sales"});
    assert_eq!(api.post("/v1/tenants/acme/subtenants", &subtenant).await.status, 201);
    let reply = api.post("/v1/tenants/acme/subtenants", &subtenant).await;
    assert_eq!(reply.code(409), "code_taken");
    let path = "/v1/tenants/acme/identity-providers/okta";
    let reply = api
        .send_json("PUT", path, &idp("https://a.example.com", "acme.example"), &[])
        .await;
    assert_eq!(reply.status, 201);
    let path = "/v1/tenants/other/identity-providers/okta";
    let reply = api
        .send_json("PUT", path, &idp("https://b.example.com", "acme.example"), &[])
        .await;
    assert_eq!(reply.code(409), "domain_claimed");
    assert_eq!(api.delete("/v1/tenants/acme", &[]).await.code(409), "has_children");
    let reply = api.patch("/v1/tenants/acme", &json!({"parentId": "child"}), &[]).await;
    assert_eq!(reply.code(409), "would_cycle");
    let reply = api.post("/v1/tenants/acme/restore", &json!({})).await;
    assert_eq!(reply.code(409), "not_retired");
    assert_eq!(api.post("/v1/tenants/child/retire", &json!({})).await.status, 200);
    let reply = api.post("/v1/tenants/child/retire", &json!({})).await;
    assert_eq!(reply.code(409), "already_retired");
    let reply = api.patch("/v1/tenants/child", &json!({"description": "x"}), &[]).await;
    assert_eq!(reply.code(409), "tenant_retired");
    let reply = api
        .post("/v1/tenants", &json!({"name": "Grandchild", "parentId": "child"}))
        .await;
    assert_eq!(reply.code(409), "parent_retired");
    let mut parent = "other".to_owned();
    let too_deep = loop {
        let reply = api
            .post(
                "/v1/tenants",
                &json!({"name": format!("Level under {parent}"), "parentId": parent}),
            )
            .await;
        if reply.status != 201 {
            break reply;
        }
        parent = reply.json()["id"].as_str().unwrap().to_owned();
    };
    assert_eq!(too_deep.code(409), "too_deep");
    for i in 1.. {
        let path = format!("/v1/tenants/other/identity-providers/idp-{i}");
        let reply = api
            .send_json(
                "PUT",
                &path,
                &idp(&format!("https://{i}.example.com"), &format!("d{i}.example")),
                &[],
            )
            .await;
        if reply.status != 201 {
            assert_eq!(reply.code(409), "limit_reached");
            break;
        }
    }

    // 412 and 422
    let reply = api
        .patch(
            "/v1/tenants/acme",
            &json!({"description": "x"}),
            &[("if-match", "\"99\"")],
        )
        .await;
    assert_eq!(reply.code(412), "version_mismatch");
    let key = ("idempotency-key", "one-request");
    let first = api
        .send_json("POST", "/v1/tenants", &json!({"name": "Keyed"}), &[key])
        .await;
    assert_eq!(first.status, 201);
    let reply = api
        .send_json("POST", "/v1/tenants", &json!({"name": "Keyed differently"}), &[key])
        .await;
    assert_eq!(reply.code(422), "idempotency_key_reused");
}

/// What only a function invoked outside API Gateway's checks can answer:
/// no verified caller, or a route it does not serve.
#[tokio::test]
async fn a_function_without_a_caller_or_a_route_answers_its_own_codes() {
    let api = &spawn_app().await;
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/tenants-get.json")).unwrap();
    let event: Value = serde_json::from_str(&text).unwrap();
    let answer = |event: Value| async move {
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let response = tenants::handle(api.app(), request).await;
        let lambda_http::Body::Text(body) = response.body() else {
            panic!("a text body")
        };
        let body: Value = serde_json::from_str(body).unwrap();
        crate::helpers::observe(
            "GET /v1/tenants/{id}",
            response.status().as_u16(),
            body["code"].as_str(),
        );
        (response.status().as_u16(), body["code"].clone())
    };
    let mut anonymous = event.clone();
    anonymous["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    assert_eq!(answer(anonymous).await, (401, json!("unauthenticated")));
    let mut elsewhere = event;
    elsewhere["routeKey"] = json!("GET /v1/nowhere");
    elsewhere["requestContext"]["routeKey"] = json!("GET /v1/nowhere");
    assert_eq!(answer(elsewhere).await, (404, json!("unknown_route")));
}

/// `contended`: a write whose every attempt loses its race (the fault layer
/// makes each transaction's first condition fail, as if another writer
/// always won) is retried by the server for its budget, then answered 503
/// with `Retry-After`, and nothing of it was written.
#[tokio::test]
async fn a_write_that_loses_every_race_for_its_whole_budget_answers_contended() {
    let faults = crate::helpers::Faults::default();
    let api = crate::helpers::spawn_app_with_faults(&faults).await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    faults.lose_every_race();
    let started = std::time::Instant::now();
    let reply = api
        .patch("/v1/tenants/acme", &json!({"description": "lost"}), &[])
        .await;
    let took = started.elapsed();
    assert_eq!(reply.code(503), "contended", "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("retry-after"), Some("1"));
    println!(
        "a write losing every race answered after {took:?}, {} DynamoDB calls",
        faults.calls()
    );
    assert!(
        took >= std::time::Duration::from_secs(2),
        "it retried for its budget: {took:?}"
    );
    faults.reset();
    let tenant = api.get("/v1/tenants/acme").await.json();
    assert_eq!((&tenant["version"], &tenant["description"]), (&json!(1), &json!(null)));
    let reply = api.patch("/v1/tenants/acme", &json!({"description": "won"}), &[]).await;
    assert_eq!(reply.status, 200);
}
