//! List filters, sorts, page/offset and totals.

use serde_json::json;

use crate::helpers::{names, spawn_app, TestApi};

async fn catalogue(api: &TestApi) {
    let tenants = [
        json!({"name": "Alpha", "tags": ["gold", "eu"], "environment": "production", "resellerId": "r1", "externalIds": {"1": "A-1"}}),
        json!({"name": "Bravo", "tags": ["gold"], "environment": "test", "type": "ServiceProvider", "resellerId": "r1"}),
        json!({"name": "Charlie", "tags": ["eu"], "environment": "test", "resellerId": "r2", "externalIds": {"1": "C-1", "crm": "9"}}),
        json!({"name": "Delta", "tags": ["gold", "eu", "beta"], "status": "inactive", "type": "ServiceProvider"}),
        json!({"name": "Echo", "environment": "production", "externalIds": {"crm": "9"}}),
    ];
    for body in tenants {
        api.create_tenant(body).await;
    }
    api.create_tenant(json!({"tenantId": "foxtrot", "name": "Foxtrot", "tags": ["gold"], "resellerId": "r1"}))
        .await;
    api.call("POST", "/v1/tenants/foxtrot/retire", None, &[]).await;
}

#[tokio::test]
async fn every_filter_answers_what_it_says() {
    let api = spawn_app().await;
    catalogue(&api).await;
    let cases: &[(&str, &[&str])] = &[
        ("", &["Alpha", "Bravo", "Charlie", "Delta", "Echo"]),
        ("tags=gold", &["Alpha", "Bravo", "Delta"]),
        ("tags=gold,eu", &["Alpha", "Delta"]),
        ("tags=gold&tags=eu&tags=beta", &["Delta"]),
        ("tags=nothing", &[]),
        ("status=inactive", &["Delta"]),
        ("status=active&tags=eu", &["Alpha", "Charlie"]),
        ("status=retired", &["Foxtrot"]),
        ("status=retired&tags=gold", &["Foxtrot"]),
        ("environment=test", &["Bravo", "Charlie"]),
        ("type=ServiceProvider", &["Bravo", "Delta"]),
        ("type=test", &["Bravo", "Charlie"]),
        ("type=production", &["Alpha", "Delta", "Echo"]),
        ("type=retired", &["Foxtrot"]),
        ("resellerId=r1", &["Alpha", "Bravo"]),
        ("resellerId=r1&status=retired", &["Foxtrot"]),
        ("resellerId=r1&environment=test", &["Bravo"]),
        ("externalId=1:C-1", &["Charlie"]),
        ("externalId=crm:9", &["Charlie", "Echo"]),
        ("externalId=crm:9&name=e", &["Echo"]),
        ("name=CH", &["Charlie"]),
        ("tags=eu&sort=name%20desc", &["Delta", "Charlie", "Alpha"]),
        ("tags=gold&sort=createdAt%20desc", &["Delta", "Bravo", "Alpha"]),
        ("resellerId=r1&sort=createdAt", &["Alpha", "Bravo"]),
    ];
    for (query, expected) in cases {
        assert_eq!(api.all_names(&format!("{query}&limit=2")).await, *expected, "{query}");
        assert_eq!(api.all_names(query).await, *expected, "{query}");
        let total = api
            .get(&format!("/v1/tenants?{query}&includeTotal=true&limit=1"))
            .await
            .json();
        assert_eq!(total["total"], expected.len(), "total of {query}");
    }
}

#[tokio::test]
async fn filters_are_validated() {
    let api = spawn_app().await;
    let reply = api
        .get("/v1/tenants?type=Reseller&environment=prod&externalId=nocolon&tags=a%23b&parentId=NO&includeTotal=yes")
        .await;
    reply.problem(400);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["environment", "externalId", "includeTotal", "parentId", "tags", "type"]
    );
    api.get("/v1/tenants?type=test&environment=production")
        .await
        .problem(400);
    api.get("/v1/tenants?type=retired&status=active").await.problem(400);
    api.get("/v1/tenants?page=1&offset=2").await.problem(400);
    api.get("/v1/tenants?offset=10001").await.problem(400);
    api.get("/v1/tenants?page=0").await.problem(400);
}

#[tokio::test]
async fn page_and_offset_are_accepted_for_compatibility() {
    let api = spawn_app().await;
    for i in 0..12 {
        api.create_tenant(json!({"name": format!("T{i:02}")})).await;
    }
    let page = |n: u32| format!("/v1/tenants?limit=5&page={n}");
    assert_eq!(
        names(&api.get(&page(1)).await.json()),
        ["T00", "T01", "T02", "T03", "T04"]
    );
    assert_eq!(names(&api.get(&page(3)).await.json()), ["T10", "T11"]);
    assert_eq!(names(&api.get(&page(4)).await.json()), Vec::<String>::new());
    let offset = api.get("/v1/tenants?limit=3&offset=7").await.json();
    assert_eq!(names(&offset), ["T07", "T08", "T09"]);
    // The cursor of an offset page continues from there.
    let cursor = offset["nextCursor"].as_str().unwrap();
    assert_eq!(
        names(&api.get(&format!("/v1/tenants?limit=3&cursor={cursor}")).await.json()),
        ["T10", "T11"]
    );
}

#[tokio::test]
async fn lookup_by_name_is_case_insensitive() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme Corp / EU"}))
        .await;
    api.take_requests();
    let reply = api.get("/v1/tenants/by-name/acme%20CORP%20%2F%20eu").await;
    assert_eq!((reply.status, reply.json()["id"].as_str()), (200, Some("acme")));
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(
        api.take_requests().values().sum::<u64>(),
        2,
        "one GetItem on the guard, one on the tenant"
    );
    api.get("/v1/tenants/by-name/nobody").await.problem(404);
    api.patch("/v1/tenants/acme", &json!({"name": "Acme Two"}), &[]).await;
    api.get("/v1/tenants/by-name/Acme%20Corp%20%2F%20EU").await.problem(404);
    assert_eq!(api.get("/v1/tenants/by-name/acme%20two").await.status, 200);
}
