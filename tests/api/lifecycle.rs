//! Retire, restore and delete.

use serde_json::json;

use crate::helpers::spawn_app;

fn ids(list: &serde_json::Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn retire_hides_from_the_default_list_and_restore_brings_back() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "status": "inactive"}))
        .await;
    api.create_tenant(json!({"tenantId": "globex", "name": "Globex"})).await;

    let retired = api
        .send_json(
            "POST",
            "/v1/tenants/acme/retire",
            &json!({"reason": "contract ended"}),
            &[],
        )
        .await;
    assert_eq!(retired.status, 200);
    let tenant = retired.json();
    assert_eq!(
        (
            tenant["status"].as_str(),
            tenant["retireReason"].as_str(),
            tenant["retiredBy"].as_str()
        ),
        (Some("retired"), Some("contract ended"), Some("test-admin"))
    );
    assert!(tenant["retiredAt"].is_string());
    assert_eq!(ids(&api.get("/v1/tenants").await.json()), ["globex"]);
    assert_eq!(ids(&api.get("/v1/tenants?status=retired").await.json()), ["acme"]);
    assert_eq!(
        ids(&api.get("/v1/tenants?status=inactive").await.json()),
        Vec::<&str>::new()
    );

    api.call("POST", "/v1/tenants/acme/retire", None, &[])
        .await
        .problem(409);
    api.patch("/v1/tenants/acme", &json!({"description": "x"}), &[])
        .await
        .problem(409);
    // A retired tenant keeps its name until it is deleted or purged.
    api.post("/v1/tenants", &json!({"name": "acme"})).await.problem(409);

    let restored = api.call("POST", "/v1/tenants/acme/restore", None, &[]).await;
    assert_eq!(restored.status, 200);
    let tenant = restored.json();
    assert_eq!(tenant["status"], "active");
    assert!(tenant.get("retiredAt").is_none() && tenant.get("retireReason").is_none());
    assert_eq!(ids(&api.get("/v1/tenants").await.json()), ["acme", "globex"]);
    api.call("POST", "/v1/tenants/acme/restore", None, &[])
        .await
        .problem(409);
}

#[tokio::test]
async fn retire_checks_its_body_and_if_match() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let reply = api
        .send_json(
            "POST",
            "/v1/tenants/acme/retire",
            &json!({"reason": "", "why": "x"}),
            &[],
        )
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["reason", "why"]);
    api.send_json("POST", "/v1/tenants/acme/retire", &json!({}), &[("if-match", "\"5\"")])
        .await
        .problem(412);
    let ok = api
        .send_json("POST", "/v1/tenants/acme/retire", &json!({}), &[("if-match", "\"1\"")])
        .await;
    assert_eq!((ok.status, ok.header("etag")), (200, Some("\"2\"")));
    api.call("POST", "/v1/tenants/nobody/retire", None, &[])
        .await
        .problem(404);
}

#[tokio::test]
async fn delete_removes_the_tenant_and_its_name() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.delete("/v1/tenants/acme", &[("if-match", "\"9\"")])
        .await
        .problem(412);
    let reply = api.delete("/v1/tenants/acme", &[("if-match", "\"1\"")]).await;
    assert_eq!((reply.status, reply.body.len()), (204, 0));
    assert!(api.scan().await.is_empty(), "no tenant, no guard");
    api.get("/v1/tenants/acme").await.problem(404);
    api.delete("/v1/tenants/acme", &[]).await.problem(404);
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
}

#[tokio::test]
async fn a_restore_reason_is_validated_like_retires_and_kept_in_the_history() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let retired = api
        .post("/v1/tenants/acme/retire", &json!({"reason": "contract ended"}))
        .await;
    assert_eq!(retired.status, 200);
    let before = api.scan().await;
    let long = "x".repeat(513);
    for (body, fields) in [
        (json!({"reason": "back", "colour": "red"}), vec!["colour"]),
        (json!({"reason": long, "why": 1}), vec!["reason", "why"]),
        (json!({"reason": ""}), vec!["reason"]),
        (json!({"reason": 7}), vec!["reason"]),
        (json!({"reason": "a\u{0}b"}), vec!["reason"]),
    ] {
        let refused = api.post("/v1/tenants/acme/restore", &body).await;
        assert_eq!(refused.problem(400)["code"], "validation_failed", "{body}");
        assert_eq!(refused.error_fields(), fields, "{body}");
    }
    api.post("/v1/tenants/acme/restore", &json!(["reason"]))
        .await
        .problem(400);
    assert_eq!(api.scan().await, before, "a refused restore writes nothing");

    let reason = "renewed\tafter a call";
    let restored = api.post("/v1/tenants/acme/restore", &json!({"reason": reason})).await;
    assert_eq!(restored.status, 200, "{}", String::from_utf8_lossy(&restored.body));
    let tenant = restored.json();
    assert_eq!(tenant["status"], "active");
    assert!(tenant.get("retireReason").is_none() && tenant.get("restoreReason").is_none());
    let history = api.get("/v1/tenants/acme/events").await.json();
    let events = history["items"].as_array().unwrap();
    assert_eq!(
        (&events[0]["action"], &events[0]["reason"], &events[0]["version"]),
        (&json!("restored"), &json!(reason), &tenant["version"])
    );
    assert_eq!(
        (&events[1]["action"], &events[1]["reason"]),
        (&json!("retired"), &json!("contract ended"))
    );
    assert!(events[2].get("reason").is_none(), "a create has no reason");

    // Without a body (or with `{}`), a restore records no reason.
    api.post("/v1/tenants/acme/retire", &json!({})).await;
    assert_eq!(
        api.call("POST", "/v1/tenants/acme/restore", None, &[]).await.status,
        200
    );
    let latest = api.get("/v1/tenants/acme/events?limit=2").await.json();
    for event in latest["items"].as_array().unwrap() {
        assert!(event.get("reason").is_none(), "{event}");
    }
}
