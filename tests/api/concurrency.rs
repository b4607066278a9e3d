//! Concurrent writers never overwrite each other silently.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_of_one_name_make_exactly_one_tenant() {
    let api = spawn_app().await;
    let replies = join_all((0..20).map(|i| {
        let api = &api;
        async move {
            api.post(
                "/v1/tenants",
                &json!({"name": if i % 2 == 0 { "Same Name" } else { "SAME name" }}),
            )
            .await
        }
    }))
    .await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    for reply in replies.iter().filter(|r| r.status == 409) {
        reply.problem(409);
    }
    let keys = api.keys().await;
    assert_eq!(keys.len(), 2, "one tenant and one guard: {keys:?}");
    assert_eq!(keys[1], "TENANTNAME#same name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_with_one_if_match_let_exactly_one_through() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let replies = join_all((0..10).map(|i| {
        let api = &api;
        async move {
            api.patch(
                "/v1/tenants/acme",
                &json!({"description": format!("writer {i}")}),
                &[("if-match", "\"1\"")],
            )
            .await
        }
    }))
    .await;
    let ok: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        ok.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 412));
    let stored = api.get("/v1/tenants/acme").await.json();
    assert_eq!(stored["version"], 2);
    assert_eq!(
        stored["description"],
        ok[0].json()["description"],
        "the winner's write is the one stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_without_if_match_lose_no_update() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let replies = join_all((0..6).map(|i| {
        let api = &api;
        async move {
            api.patch(
                "/v1/tenants/acme",
                &json!({"metadata": {format!("writer{i}"): "x"}}),
                &[],
            )
            .await
        }
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let applied = statuses.iter().filter(|s| **s == 200).count();
    let stored = api.get("/v1/tenants/acme").await.json();
    assert_eq!(
        stored["metadata"].as_object().unwrap().len(),
        applied,
        "every 200 is in the stored tenant"
    );
    assert_eq!(stored["version"].as_u64().unwrap() as usize, applied + 1);
}
