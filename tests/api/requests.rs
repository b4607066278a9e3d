//! Malformed requests: every one a clear 4xx in problem+json, never a 5xx.

use serde_json::json;

use crate::helpers::{spawn_app, token_for};

#[tokio::test]
async fn malformed_json_wrong_types_and_non_objects_are_400() {
    let api = spawn_app().await;
    for body in [
        &b"{"[..],
        b"{\"name\": }",
        b"[1,2]",
        b"\"text\"",
        b"null",
        b"{\"name\": \"a\"} trailing",
    ] {
        let reply = api
            .call("POST", "/v1/tenants", Some(("application/json", body)), &[])
            .await;
        let problem = reply.problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("JSON"), "{problem}");
    }
    let reply = api
        .post(
            "/v1/tenants",
            &json!({"name": 42, "tags": [1], "settings": {"useTenantLanguages": "yes"}}),
        )
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["name", "tags[0]", "settings.useTenantLanguages"]);
}

#[tokio::test]
async fn content_type_and_size_are_checked() {
    let api = spawn_app().await;
    let reply = api
        .call("POST", "/v1/tenants", Some(("text/plain", b"{\"name\":\"a\"}")), &[])
        .await;
    assert!(reply.problem(415)["detail"]
        .as_str()
        .unwrap()
        .contains("application/json"));
    let reply = api
        .call("PUT", "/v1/tenants/acme", Some(("application/xml", b"<a/>")), &[])
        .await;
    reply.problem(415);
    let big = format!("{{\"name\":\"a\",\"description\":\"{}\"}}", "x".repeat(1 << 20));
    let reply = api
        .call("POST", "/v1/tenants", Some(("application/json", big.as_bytes())), &[])
        .await;
    assert!(reply.problem(413)["detail"].as_str().unwrap().contains("1 MiB"));
    let reply = api.call("POST", "/v1/tenants", None, &[]).await;
    reply.problem(400);
    assert!(api.scan().await.is_empty());
}

#[tokio::test]
async fn bad_path_ids_and_query_parameters_are_400() {
    let api = spawn_app().await;
    let reply = api.get("/v1/tenants/Not%20An%20Id").await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["id"]);
    let reply = api
        .get("/v1/tenants?limit=0&sort=size&status=gone&colour=red&limit=5")
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["limit", "sort", "status", "colour"]);
    for query in [
        "limit=101",
        "limit=abc",
        "limit=-1",
        "name=",
        "sort=name%20sideways",
        "cursor=abc",
    ] {
        api.get(&format!("/v1/tenants?{query}")).await.problem(400);
    }
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_from_the_gateway() {
    let api = spawn_app().await;
    let no_token = api.call("GET", "/v1/tenants", None, &[("authorization", "")]).await;
    assert_eq!(
        (no_token.status, no_token.json()),
        (401, json!({"message": "Unauthorized"}))
    );
    let forged = token_for("x", &[], "").replace('.', ".x");
    let reply = api
        .call(
            "GET",
            "/v1/tenants",
            None,
            &[("authorization", &format!("Bearer {forged}"))],
        )
        .await;
    assert_eq!(reply.status, 401);
    let other_secret = dev_gateway::jwt::dev_token(
        b"not the secret",
        "x",
        &[],
        "",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        60,
    );
    let reply = api
        .call(
            "GET",
            "/v1/tenants",
            None,
            &[("authorization", &format!("Bearer {other_secret}"))],
        )
        .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn unknown_routes_are_404_like_api_gateway() {
    let api = spawn_app().await;
    assert_eq!(api.get("/v1/nothing").await.status, 404);
    assert_eq!(api.call("POST", "/v1/tenants/acme", None, &[]).await.status, 404);
}

#[tokio::test]
async fn a_route_the_function_does_not_serve_is_a_problem_not_a_panic() {
    let api = spawn_app().await;
    let event = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/tenants-get.json")).unwrap();
    let event = event.replace("GET /v1/tenants/{id}", "GET /v1/elsewhere/{id}");
    let response = tenants::handle(api.app(), lambda_http::request::from_str(&event).unwrap()).await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}
