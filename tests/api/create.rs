//! POST /v1/tenants

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_full_profile() {
    let api = spawn_app().await;
    let body = json!({
        "tenantId": "acme", "name": "Acme", "description": "d", "type": "ServiceProvider", "environment": "test",
        "status": "inactive", "tags": ["gold"], "businessAccount": "BA-1", "defaultDomain": "acme.example",
        "supportEmail": "help@acme.example", "contactInformation": {"name": "Ann", "email": "ann@acme.example", "phoneNumber": "+1 555 0100"},
        "addressInformation": {"addressLine1": "1 Main", "addressLine2": "Suite 2", "city": "Gent", "stateOrProvince": "OVL", "zipOrPostalCode": "9000", "country": "BE"},
        "resellerId": "r-1", "externalIds": {"1": "a", "2": "b", "3": "c", "4": "d"},
        "settings": {"useTenantLanguages": true, "useCustomRoutingProfile": true}, "metadata": {"k": "v"}
    });
    let reply = api.post("/v1/tenants", &body).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("location"), Some("/v1/tenants/acme"));
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let tenant = reply.json();
    for field in [
        "description",
        "type",
        "environment",
        "status",
        "tags",
        "businessAccount",
        "defaultDomain",
        "supportEmail",
        "contactInformation",
        "addressInformation",
        "resellerId",
        "externalIds",
        "settings",
        "metadata",
    ] {
        assert_eq!(tenant[field], body[field], "{field}");
    }
    assert_eq!(
        (
            tenant["id"].as_str(),
            tenant["version"].as_u64(),
            tenant["depth"].as_u64()
        ),
        (Some("acme"), Some(1), Some(0))
    );
    assert_eq!(tenant["path"], json!(["acme"]));
    assert_eq!(tenant["createdBy"], "test-admin");

    // What GET returns is what was stored.
    let stored = api.get("/v1/tenants/acme").await;
    assert_eq!(stored.json(), tenant);
    assert_eq!(api.keys().await, ["TENANT#acme", "TENANTNAME#acme"]);
    let counts = api.entity_counts().await;
    assert_eq!(
        counts["facet"], 7,
        "one facet item per tag, per external id and per id of its path, and one of its name prefixes"
    );
    assert_eq!(counts["event"], 1, "the creation is in the history");
}

#[tokio::test]
async fn a_generated_id_is_a_uuid_v7_and_defaults_apply() {
    let api = spawn_app().await;
    let tenant = api.create_tenant(json!({"name": "  Plain  "})).await;
    let id = tenant["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "version nibble of a UUID v7: {id}");
    assert_eq!(tenant["name"], "Plain", "names are trimmed");
    assert_eq!(
        (
            tenant["type"].as_str(),
            tenant["environment"].as_str(),
            tenant["status"].as_str()
        ),
        (Some("Enterprise"), Some("production"), Some("active"))
    );
}

#[tokio::test]
async fn duplicate_names_are_refused_case_insensitively() {
    let api = spawn_app().await;
    api.create_tenant(json!({"name": "Acme Corp"})).await;
    let reply = api.post("/v1/tenants", &json!({"name": "ACME corp"})).await;
    let problem = reply.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("already exists"));
    let counts = api.entity_counts().await;
    assert_eq!(
        counts,
        [
            ("event".into(), 1),
            ("facet".into(), 2),
            ("member".into(), 1),
            ("tenant".into(), 1),
            ("tenantName".into(), 1)
        ]
        .into(),
        "nothing of the refused create"
    );
}

#[tokio::test]
async fn a_duplicate_id_is_refused_and_leaves_no_guard_behind() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let reply = api
        .post("/v1/tenants", &json!({"tenantId": "acme", "name": "Other name"}))
        .await;
    assert!(reply.problem(409)["detail"].as_str().unwrap().contains("id 'acme'"));
    // The failed transaction wrote nothing: no guard for "other name".
    assert_eq!(api.keys().await, ["TENANT#acme", "TENANTNAME#acme"]);
    // And the name is therefore still free.
    api.create_tenant(json!({"name": "Other name"})).await;
}

#[tokio::test]
async fn every_validation_error_is_listed_and_nothing_is_written() {
    let api = spawn_app().await;
    let reply = api
        .post(
            "/v1/tenants",
            &json!({"tenantId": "Bad Id", "name": "", "type": "Reseller", "tags": "gold", "supportEmail": "x",
                    "defaultDomain": "no", "externalIds": {"1": ""}, "createdAt": "2020-01-01T00:00:00Z", "colour": "red"}),
        )
        .await;
    let problem = reply.problem(400);
    assert_eq!(problem["type"], "/problems/validation-error");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "colour",
            "createdAt",
            "defaultDomain",
            "externalIds.1",
            "name",
            "supportEmail",
            "tags",
            "tenantId",
            "type"
        ]
    );
    for error in problem["errors"].as_array().unwrap() {
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    assert!(api.scan().await.is_empty());
}

#[tokio::test]
async fn custom_routing_profile_is_for_service_providers_only() {
    let api = spawn_app().await;
    let reply = api
        .post(
            "/v1/tenants",
            &json!({"name": "a", "settings": {"useCustomRoutingProfile": true}}),
        )
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["settings.useCustomRoutingProfile"]);
}
