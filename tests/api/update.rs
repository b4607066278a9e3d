//! PUT and PATCH /v1/tenants/{id}

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn put_replaces_the_writable_fields_and_clears_omitted_ones() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "environment": "test", "status": "inactive",
        "tags": ["a"], "supportEmail": "s@acme.example", "metadata": {"k": "v"}, "settings": {"useTenantLanguages": true}}))
        .await;
    let reply = api
        .send_json(
            "PUT",
            "/v1/tenants/acme",
            &json!({"name": "Acme", "description": "new"}),
            &[],
        )
        .await;
    assert_eq!((reply.status, reply.header("etag")), (200, Some("\"2\"")));
    let tenant = reply.json();
    assert_eq!(tenant["description"], "new");
    assert_eq!(
        (tenant["environment"].as_str(), tenant["status"].as_str()),
        (Some("test"), Some("inactive")),
        "kept when omitted"
    );
    assert_eq!(tenant["tags"], json!([]));
    assert_eq!(tenant["metadata"], json!({}));
    assert_eq!(tenant["settings"]["useTenantLanguages"], false);
    assert!(tenant.get("supportEmail").is_none());
    assert_eq!(api.get("/v1/tenants/acme").await.json(), tenant);
}

#[tokio::test]
async fn put_refuses_read_only_and_create_only_fields() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let reply = api
        .send_json(
            "PUT",
            "/v1/tenants/acme",
            &json!({"name": "Acme", "id": "x", "version": 9, "tenantId": "y", "type": "ServiceProvider"}),
            &[],
        )
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["tenantId", "id", "version"]);
    // Fields are checked first; then the rules that need the stored tenant.
    let reply = api
        .send_json(
            "PUT",
            "/v1/tenants/acme",
            &json!({"name": "Acme", "type": "ServiceProvider"}),
            &[],
        )
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["type"]);
    assert_eq!(api.get("/v1/tenants/acme").await.json()["version"], 1);
}

#[tokio::test]
async fn a_stale_if_match_is_412_with_the_current_etag() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let ok = api
        .patch(
            "/v1/tenants/acme",
            &json!({"description": "one"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(ok.status, 200);
    let stale = api
        .patch(
            "/v1/tenants/acme",
            &json!({"description": "two"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.problem(412);
    assert_eq!(stale.header("etag"), Some("\"2\""));
    let weak = api
        .send_json(
            "PUT",
            "/v1/tenants/acme",
            &json!({"name": "Acme"}),
            &[("if-match", "W/\"2\"")],
        )
        .await;
    weak.problem(412);
    let any = api
        .patch(
            "/v1/tenants/acme",
            &json!({"description": "three"}),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(any.status, 200);
    assert_eq!(api.get("/v1/tenants/acme").await.json()["description"], "three");
}

#[tokio::test]
async fn patch_is_json_merge_patch() {
    let api = spawn_app().await;
    api.create_tenant(
        json!({"tenantId": "acme", "name": "Acme", "description": "d", "metadata": {"a": "1", "b": "2"},
        "contactInformation": {"name": "Ann", "email": "ann@acme.example"}}),
    )
    .await;
    let reply = api
        .patch(
            "/v1/tenants/acme",
            &json!({"description": null, "metadata": {"a": null, "c": "3"}, "contactInformation": {"name": "Bob"}}),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200);
    let tenant = reply.json();
    assert!(tenant.get("description").is_none(), "null removes");
    assert_eq!(tenant["metadata"], json!({"b": "2", "c": "3"}), "objects merge");
    assert_eq!(
        tenant["contactInformation"],
        json!({"name": "Bob", "email": "ann@acme.example"})
    );
    assert_eq!(tenant["name"], "Acme", "untouched fields stay");
    // application/json is accepted too.
    let plain = api
        .send_json("PATCH", "/v1/tenants/acme", &json!({"status": "inactive"}), &[])
        .await;
    assert_eq!((plain.status, plain.json()["status"].as_str()), (200, Some("inactive")));
}

#[tokio::test]
async fn patch_lists_every_error_of_the_result() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let reply = api
        .patch(
            "/v1/tenants/acme",
            &json!({"name": null, "status": "retired", "createdBy": "me", "extra": 1}),
            &[],
        )
        .await;
    reply.problem(400);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["createdBy", "extra", "name", "status"]);
    assert_eq!(api.get("/v1/tenants/acme").await.json()["version"], 1);
}

#[tokio::test]
async fn a_change_that_changes_nothing_keeps_the_version() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "tags": ["x"]}))
        .await;
    let reply = api.patch("/v1/tenants/acme", &json!({"tags": ["x"]}), &[]).await;
    assert_eq!((reply.status, reply.header("etag")), (200, Some("\"1\"")));
}

#[tokio::test]
async fn renaming_frees_the_old_name_and_takes_the_new_one() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.create_tenant(json!({"tenantId": "globex", "name": "Globex"})).await;

    let taken = api.patch("/v1/tenants/acme", &json!({"name": "GLOBEX"}), &[]).await;
    taken.problem(409);
    assert_eq!(
        api.get("/v1/tenants/acme").await.json()["name"],
        "Acme",
        "nothing changed"
    );

    let renamed = api.patch("/v1/tenants/acme", &json!({"name": "Acme Two"}), &[]).await;
    assert_eq!(renamed.status, 200);
    assert_eq!(
        api.keys().await,
        [
            "TENANT#acme",
            "TENANT#globex",
            "TENANTNAME#acme two",
            "TENANTNAME#globex"
        ]
    );
    api.create_tenant(json!({"name": "acme"})).await;

    // A change of case only keeps the same guard.
    let recased = api.patch("/v1/tenants/acme", &json!({"name": "ACME TWO"}), &[]).await;
    assert_eq!(
        (recased.status, recased.json()["name"].as_str()),
        (200, Some("ACME TWO"))
    );
}

#[tokio::test]
async fn updating_an_unknown_tenant_is_404() {
    let api = spawn_app().await;
    api.patch("/v1/tenants/nobody", &json!({"description": "x"}), &[])
        .await
        .problem(404);
    api.send_json("PUT", "/v1/tenants/nobody", &json!({"name": "x"}), &[])
        .await
        .problem(404);
}
