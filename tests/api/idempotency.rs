//! Idempotency-Key on create.

use futures_util::future::join_all;
use serde_json::json;
use shared::domain::Timestamp;
use shared::store::{keys, records};

use crate::helpers::{spawn_app, token_for, ADMIN_SCOPE};

const KEY: (&str, &str) = ("idempotency-key", "order-42");

#[tokio::test]
async fn a_retry_gets_the_first_answer_even_after_a_rename() {
    let api = spawn_app().await;
    let body = json!({"name": "Acme", "tags": ["x"]});
    let first = api.send_json("POST", "/v1/tenants", &body, &[KEY]).await;
    assert_eq!(first.status, 201);
    let id = first.json()["id"].as_str().unwrap().to_owned();
    api.patch(&format!("/v1/tenants/{id}"), &json!({"name": "Renamed"}), &[])
        .await;

    let retry = api.send_json("POST", "/v1/tenants", &body, &[KEY]).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body, "byte for byte the first answer");
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), Some("\"1\""));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(api.keys().await.len(), 2, "still one tenant and its guard");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let api = spawn_app().await;
    api.send_json("POST", "/v1/tenants", &json!({"name": "Acme"}), &[KEY])
        .await;
    let reply = api
        .send_json("POST", "/v1/tenants", &json!({"name": "Other"}), &[KEY])
        .await;
    assert!(reply.problem(422)["detail"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    // Key order and spacing do not make a body different.
    let same = api
        .call(
            "POST",
            "/v1/tenants",
            Some(("application/json", br#"{ "name" : "Acme" }"#)),
            &[KEY],
        )
        .await;
    assert_eq!(same.status, 201);
}

#[tokio::test]
async fn keys_belong_to_their_caller_and_are_validated() {
    let api = spawn_app().await;
    api.send_json("POST", "/v1/tenants", &json!({"name": "Acme"}), &[KEY])
        .await;
    let bob = format!("Bearer {}", token_for("bob", &["tenancy:admin"], ADMIN_SCOPE));
    let other_caller = api
        .send_json(
            "POST",
            "/v1/tenants",
            &json!({"name": "Bobs"}),
            &[KEY, ("authorization", &bob)],
        )
        .await;
    assert_eq!(other_caller.status, 201, "bob's key is not alice's");
    api.send_json("POST", "/v1/tenants", &json!({"name": "X"}), &[("idempotency-key", "")])
        .await
        .problem(400);
    let long = "k".repeat(256);
    api.send_json(
        "POST",
        "/v1/tenants",
        &json!({"name": "X"}),
        &[("idempotency-key", &long)],
    )
    .await
    .problem(400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_retries_make_one_tenant() {
    let api = spawn_app().await;
    let body = json!({"name": "Concurrent"});
    let replies = join_all((0..10).map(|_| api.send_json("POST", "/v1/tenants", &body, &[KEY]))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "every retry answers the same tenant");
    assert_eq!(api.keys().await.len(), 2);
    assert_eq!(api.entity_counts().await["idempotency"], 1);
}

#[tokio::test]
async fn an_expired_key_is_ignored_before_dynamodb_removes_it() {
    let api = spawn_app().await;
    let key = keys::idempotency("test-admin", "order-42");
    let expired = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
    let item = records::idempotency_item(&key, "old-fingerprint", 201, "{\"id\":\"old\"}", expired);
    api.client
        .put_item()
        .table_name(&api.table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let reply = api
        .send_json("POST", "/v1/tenants", &json!({"name": "Fresh"}), &[KEY])
        .await;
    assert_eq!((reply.status, reply.header("idempotent-replayed")), (201, None));
    assert_eq!(reply.json()["name"], "Fresh");
}
