//! The audit history: one event per change, in the change's transaction.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

fn actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_change_is_in_the_history_newest_first() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "tags": ["a"]}))
        .await;
    api.create_tenant(json!({"tenantId": "parent", "name": "Parent"})).await;
    api.send_json(
        "PUT",
        "/v1/tenants/acme",
        &json!({"name": "Acme", "description": "d"}),
        &[],
    )
    .await;
    api.patch("/v1/tenants/acme", &json!({"name": "Acme Two"}), &[]).await;
    api.patch("/v1/tenants/acme", &json!({"parentId": "parent"}), &[]).await;
    api.send_json("POST", "/v1/tenants/acme/retire", &json!({"reason": "why not"}), &[])
        .await;
    api.call("POST", "/v1/tenants/acme/restore", None, &[]).await;
    api.patch("/v1/tenants/acme", &json!({"tags": []}), &[]).await; // no change, no event

    let page = api.get("/v1/tenants/acme/events").await.json();
    assert_eq!(
        actions(&page),
        ["restored", "retired", "moved", "updated", "updated", "created"]
    );
    let events = page["items"].as_array().unwrap();
    let versions: Vec<u64> = events.iter().map(|e| e["version"].as_u64().unwrap()).collect();
    assert_eq!(versions, [6, 5, 4, 3, 2, 1], "each event names the version it made");
    for event in events {
        assert_eq!(
            (event["tenantId"].as_str(), event["actor"].as_str()),
            (Some("acme"), Some("test-admin"))
        );
        assert!(event["at"].is_string());
    }
    let rename = &events[3]["changes"];
    assert_eq!(rename, &json!({"name": {"before": "Acme", "after": "Acme Two"}}));
    let put = &events[4]["changes"];
    assert_eq!(put["description"], json!({"before": null, "after": "d"}));
    assert_eq!(put["tags"], json!({"before": ["a"], "after": []}));
    let moved = &events[2]["changes"];
    assert_eq!(moved["parentId"], json!({"before": null, "after": "parent"}));
    assert_eq!(moved["path"], json!({"before": ["acme"], "after": ["parent", "acme"]}));
    assert_eq!(events[1]["changes"]["retireReason"]["after"], "why not");
    assert!(events[5]["changes"]["name"]["before"].is_null());
}

#[tokio::test]
async fn history_pages_and_goes_with_the_tenant() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    for i in 0..4 {
        api.patch("/v1/tenants/acme", &json!({"description": format!("v{i}")}), &[])
            .await;
    }
    let first = api.get("/v1/tenants/acme/events?limit=2").await.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = api
        .get(&format!("/v1/tenants/acme/events?limit=10&cursor={cursor}"))
        .await
        .json();
    assert_eq!(actions(&second), ["updated", "updated", "created"]);
    assert!(second["nextCursor"].is_null());
    api.get(&format!("/v1/tenants/other/events?cursor={cursor}"))
        .await
        .problem(400);
    api.get("/v1/tenants/acme/events?limit=0").await.problem(400);

    api.delete("/v1/tenants/acme", &[]).await;
    api.get("/v1/tenants/acme/events").await.problem(404);
    assert!(api.entity_counts().await.is_empty(), "the history went with the tenant");
    // A new tenant with the same id starts a new history.
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    assert_eq!(actions(&api.get("/v1/tenants/acme/events").await.json()), ["created"]);
}

/// A tenant item near DynamoDB's 400 KB (50 metadata entries at their
/// longest, in 4-byte characters) can still change: the history records a
/// side of a change that large by its size and digest, so its item stays
/// writable (it once answered 500).
#[tokio::test]
async fn a_change_to_the_largest_tenant_is_recorded_by_size_and_digest() {
    let api = spawn_app().await;
    let wide = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let metadata = |c: char| -> serde_json::Map<String, Value> {
        (0..50)
            .map(|i| (format!("{i:02}{}", wide(126, '𝄞')), json!(wide(1024, c))))
            .collect()
    };
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "metadata": metadata('😀')}))
        .await;
    let reply = api
        .patch(
            "/v1/tenants/acme",
            &json!({"metadata": metadata('😎'), "description": "d"}),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));

    let page = api.get("/v1/tenants/acme/events").await.json();
    assert_eq!(actions(&page), ["updated", "created"]);
    let changes = &page["items"][0]["changes"];
    assert_eq!(changes["description"], json!({"before": null, "after": "d"}));
    let (before, after) = (&changes["metadata"]["before"], &changes["metadata"]["after"]);
    for side in [before, after] {
        assert_eq!(side["omitted"], true);
        assert!(side["bytes"].as_u64().unwrap() > 200_000, "{side}");
        assert_eq!(side["sha256"].as_str().unwrap().len(), 64);
    }
    assert_ne!(before["sha256"], after["sha256"]);
    let whole = api.get("/v1/tenants/acme").await.json();
    assert_eq!(whole["metadata"], json!(metadata('😎')));
}
