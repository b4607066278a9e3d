//! /v1/tenants/{id}/members

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn members_are_added_changed_listed_and_removed() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let path = "/v1/tenants/acme/members/auth0%7Cabc%20def";
    let added = api.send_json("PUT", path, &json!({"role": "viewer"}), &[]).await;
    assert_eq!(
        (added.status, added.header("location")),
        (201, Some("/v1/tenants/acme/members/auth0%7Cabc%20def"))
    );
    let member = added.json();
    assert_eq!(
        (
            member["userId"].as_str(),
            member["role"].as_str(),
            member["addedBy"].as_str()
        ),
        (Some("auth0|abc def"), Some("viewer"), Some("test-admin"))
    );
    let changed = api.send_json("PUT", path, &json!({"role": "operator"}), &[]).await;
    assert_eq!(
        (changed.status, changed.json()["role"].as_str()),
        (200, Some("operator"))
    );
    assert_eq!(
        changed.json()["addedAt"],
        member["addedAt"],
        "a role change keeps when the member was added"
    );
    assert_eq!(api.get(path).await.json()["role"], "operator");

    let list = api.get("/v1/tenants/acme/members?limit=1").await.json();
    assert_eq!(list["count"], 1);
    let cursor = list["nextCursor"].as_str().unwrap();
    let rest = api
        .get(&format!("/v1/tenants/acme/members?limit=1&cursor={cursor}"))
        .await
        .json();
    let users: Vec<&str> = [&list, &rest]
        .iter()
        .map(|p| p["items"][0]["userId"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["auth0|abc def", "test-admin"], "the creator is a member too");

    assert_eq!(api.delete(path, &[]).await.status, 204);
    api.get(path).await.problem(404);
    api.delete(path, &[]).await.problem(404);
}

#[tokio::test]
async fn bad_membership_requests_are_refused() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let reply = api
        .send_json(
            "PUT",
            "/v1/tenants/acme/members/bob",
            &json!({"role": "owner", "extra": 1}),
            &[],
        )
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["role", "extra"]);
    api.send_json("PUT", "/v1/tenants/acme/members/bob", &json!({}), &[])
        .await
        .problem(400);
    api.send_json("PUT", "/v1/tenants/nobody/members/bob", &json!({"role": "admin"}), &[])
        .await
        .problem(404);
    api.send_json("PUT", "/v1/tenants/acme/members/a%00b", &json!({"role": "admin"}), &[])
        .await
        .problem(400);
    api.get("/v1/tenants/acme/members/nobody").await.problem(404);
}

#[tokio::test]
async fn members_go_with_their_tenant_and_never_come_back() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.send_json("PUT", "/v1/tenants/acme/members/bob", &json!({"role": "admin"}), &[])
        .await;
    api.delete("/v1/tenants/acme", &[]).await;
    assert!(
        !api.entity_counts().await.contains_key("member"),
        "no membership outlives its tenant"
    );
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.get("/v1/tenants/acme/members/bob").await.problem(404);
}
