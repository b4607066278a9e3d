//! GET /v1/tenants/{id}

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn get_answers_with_an_etag_and_304_when_unchanged() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let reply = api.get("/v1/tenants/acme").await;
    assert_eq!((reply.status, reply.header("etag")), (200, Some("\"1\"")));
    assert_eq!(reply.json()["name"], "Acme");

    let cached = api
        .call("GET", "/v1/tenants/acme", None, &[("if-none-match", "\"1\"")])
        .await;
    assert_eq!(
        (cached.status, cached.header("etag"), cached.body.len()),
        (304, Some("\"1\""), 0)
    );
    let weak = api
        .call("GET", "/v1/tenants/acme", None, &[("if-none-match", "W/\"1\"")])
        .await;
    assert_eq!(weak.status, 304, "If-None-Match compares weakly");
    let stale = api
        .call("GET", "/v1/tenants/acme", None, &[("if-none-match", "\"7\", \"8\"")])
        .await;
    assert_eq!(stale.status, 200);
    let bad = api
        .call("GET", "/v1/tenants/acme", None, &[("if-none-match", "1")])
        .await;
    bad.problem(400);
}

#[tokio::test]
async fn unknown_tenants_are_404() {
    let api = spawn_app().await;
    let problem = api.get("/v1/tenants/nobody").await.problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("nobody"));
    assert_eq!(problem["instance"], "/v1/tenants/nobody");
    assert!(problem["requestId"].as_str().unwrap().starts_with("local-"));
}

/// The store asks every request for its consumed capacity and counts it by
/// operation: what `make bench` reports per route.
#[tokio::test]
async fn the_store_counts_the_capacity_dynamodb_reports() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "cap-co", "name": "Capacity Co"}))
        .await;
    let counter = api.app().store.requests();
    counter.reset();
    assert_eq!(api.get("/v1/tenants/cap-co").await.status, 200);
    // A strongly consistent read of an item under 4 KB: one read unit.
    assert_eq!(counter.capacity(), [("GetItem".to_owned(), 1.0)].into());
    counter.reset();
    assert_eq!(
        api.patch("/v1/tenants/cap-co", &json!({"tags": ["a"]}), &[])
            .await
            .status,
        200
    );
    let capacity = counter.capacity();
    assert_eq!(capacity.get("GetItem"), Some(&1.0));
    // A transaction writes at twice the price, indexes included.
    assert!(capacity["TransactWriteItems"] >= 4.0, "{capacity:?}");
}
