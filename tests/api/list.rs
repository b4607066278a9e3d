//! GET /v1/tenants: paging, sorting, filters, cursors.

use serde_json::json;

use crate::helpers::{names, spawn_app, spawn_app_with_shards, TestApi};

/// Every name of a list in order, and how many pages it took.
async fn walk(api: &TestApi, query: &str) -> (Vec<String>, usize) {
    let pages = api.pages(query).await;
    (pages.iter().flat_map(names).collect(), pages.len())
}

async fn seed(api: &TestApi, count: usize) -> Vec<String> {
    let mut expected = Vec::new();
    for i in 0..count {
        let name = format!("Tenant {i:03}");
        api.create_tenant(json!({"name": name, "status": if i % 3 == 0 { "inactive" } else { "active" }}))
            .await;
        expected.push(name);
    }
    expected
}

#[tokio::test]
async fn pages_cover_every_tenant_once_in_name_order() {
    let api = spawn_app().await;
    let expected = seed(&api, 23).await;
    for limit in [1, 5, 7, 23, 25, 100] {
        let (seen, pages) = walk(&api, &format!("limit={limit}")).await;
        assert_eq!(seen, expected, "limit {limit}");
        assert_eq!(
            pages,
            expected.len().div_ceil(limit).max(1),
            "no trailing empty page at limit {limit}"
        );
    }
    let (desc, _) = walk(&api, "limit=4&sort=name%20desc").await;
    assert_eq!(desc, expected.iter().rev().cloned().collect::<Vec<_>>());
    let default = api.get("/v1/tenants").await.json();
    assert_eq!(default["items"].as_array().unwrap().len(), 23, "default limit is 25");
}

#[tokio::test]
async fn sharded_lists_merge_in_order_without_gaps() {
    let api = spawn_app_with_shards(3).await;
    let expected = seed(&api, 31).await;
    for limit in [1, 2, 10, 31] {
        let (seen, _) = walk(&api, &format!("limit={limit}")).await;
        assert_eq!(seen, expected, "limit {limit}");
    }
    let (by_created, _) = walk(&api, "limit=4&sort=createdAt").await;
    assert_eq!(by_created, expected, "created in name order");
    let (newest_first, _) = walk(&api, "limit=6&sort=createdAt%20desc").await;
    assert_eq!(newest_first, expected.iter().rev().cloned().collect::<Vec<_>>());
    // A filter that drops most items still pages correctly across shards.
    let (inactive, _) = walk(&api, "limit=2&status=inactive").await;
    let want: Vec<String> = expected
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(_, n)| n.clone())
        .collect();
    assert_eq!(inactive, want);
}

#[tokio::test]
async fn filters_by_name_prefix_case_insensitively_and_by_status() {
    let api = spawn_app().await;
    for name in ["Acme", "acme labs", "ACME West", "Globex", "Initech"] {
        api.create_tenant(json!({"name": name})).await;
    }
    api.create_tenant(json!({"name": "Acme Old", "status": "inactive"}))
        .await;
    assert_eq!(
        walk(&api, "name=acme").await.0,
        ["Acme", "acme labs", "Acme Old", "ACME West"]
    );
    assert_eq!(walk(&api, "name=ACME%20W").await.0, ["ACME West"]);
    assert_eq!(walk(&api, "name=acme&status=inactive").await.0, ["Acme Old"]);
    assert_eq!(
        walk(&api, "name=acme&sort=createdAt%20desc&limit=1").await.0,
        ["Acme Old", "ACME West", "acme labs", "Acme"]
    );
    assert_eq!(walk(&api, "status=active&limit=2").await.0.len(), 5);
    assert_eq!(walk(&api, "name=zzz").await.0, Vec::<String>::new());
}

#[tokio::test]
async fn cursors_are_tamper_proof_and_bound_to_their_query() {
    let api = spawn_app().await;
    seed(&api, 5).await;
    let first = api.get("/v1/tenants?limit=2").await.json();
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();

    let ok = api.get(&format!("/v1/tenants?limit=3&cursor={cursor}")).await;
    assert_eq!(
        names(&ok.json()),
        ["Tenant 002", "Tenant 003", "Tenant 004"],
        "the page size may change between pages"
    );

    let other_query = api
        .get(&format!("/v1/tenants?limit=2&sort=name%20desc&cursor={cursor}"))
        .await;
    assert_eq!(other_query.problem(400)["errors"][0]["field"], "cursor");

    // One character changed in the position or in the tag (cursors are
    // opaque: see security_cursors.rs for what they hide).
    let edited = |at: usize| {
        let mut chars: Vec<char> = cursor.chars().collect();
        chars[at] = if chars[at] == 'e' { 'f' } else { 'e' };
        chars.into_iter().collect::<String>()
    };
    for forged in [
        edited(cursor.len() / 2),
        edited(cursor.len() - 2),
        "x".repeat(9000),
        "%00".into(),
    ] {
        api.get(&format!("/v1/tenants?cursor={forged}")).await.problem(400);
    }
}
