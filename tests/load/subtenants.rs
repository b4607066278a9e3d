//! Subtenants in the hundreds: paging every order, reseller propagation and
//! forced deletes at size, with their DynamoDB costs.

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_without_stream, TestApi};

const BASE: &str = "/v1/tenants/acme/subtenants";

/// `count` subtenants: names in reverse order of codes, every fifth with reseller r2.
async fn seed(api: &TestApi, count: usize) {
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "resellerId": "r1"}))
        .await;
    futures_util::stream::iter(0..count)
        .map(|i| async move {
            let reseller = if i % 5 == 0 { "r2" } else { "r1" };
            let body = json!({"name": format!("Team {:03}", count - i), "code": format!("code-{i:03}"), "resellerId": reseller});
            let reply = api.post(BASE, &body).await;
            assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
}

async fn walk(api: &TestApi, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{BASE}?{query}&cursor={c}"),
            None => format!("{BASE}?{query}"),
        };
        let reply = api.get(&path).await;
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        let page = reply.json();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_subtenants_page_in_every_order_without_gaps() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let api = spawn_app_without_stream().await;
    seed(&api, 300).await;
    for sort in ["created", "name", "code"] {
        for order in ["asc", "desc"] {
            let items = walk(&api, &format!("sortBy={sort}&orderBy={order}&limit=7")).await;
            let key = |v: &Value| match sort {
                "created" => v["id"].as_str().unwrap().to_owned(),
                "name" => v["name"].as_str().unwrap().to_lowercase(),
                _ => v["code"].as_str().unwrap().to_owned(),
            };
            let keys: Vec<String> = items.iter().map(key).collect();
            let mut expected = keys.clone();
            expected.sort();
            if order == "desc" {
                expected.reverse();
            }
            assert_eq!(keys.len(), 300, "{sort} {order}");
            assert_eq!(keys, expected, "{sort} {order}: in order, each once");
        }
    }
    api.take_requests();
    let page = api.get(&format!("{BASE}?sortBy=name&limit=25")).await.json();
    assert_eq!(page["count"], 25);
    let requests = api.take_requests();
    println!("a page of 25 subtenants: {requests:?}");
    assert_eq!(requests.get("Query"), Some(&1), "one Query for the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reseller_propagation_and_a_forced_delete_at_250() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let api = spawn_app_without_stream().await;
    seed(&api, 250).await;
    let header = |reply: &crate::helpers::Reply| reply.header("tenancy-subtenants-updated").unwrap().to_owned();
    let api = &api;
    let with = |reseller: &'static str| async move {
        let items = walk(api, "limit=100").await;
        items.iter().filter(|s| s["resellerId"] == reseller).count()
    };
    let reply = api
        .patch(
            "/v1/tenants/acme?noResellerIdToGroups=true",
            &json!({"resellerId": "r3"}),
            &[],
        )
        .await;
    assert_eq!(header(&reply), "0");
    assert_eq!(with("r1").await, 200);
    let reply = api.patch("/v1/tenants/acme", &json!({"resellerId": "r1"}), &[]).await;
    assert_eq!(header(&reply), "0", "nobody had r3");
    let reply = api.patch("/v1/tenants/acme", &json!({"resellerId": "r4"}), &[]).await;
    assert_eq!(header(&reply), "200", "the 200 that followed r1");
    assert_eq!((with("r4").await, with("r2").await), (200, 50));
    let reply = api
        .patch(
            "/v1/tenants/acme?forceResellerIdToGroups=true",
            &json!({"resellerId": "r5"}),
            &[],
        )
        .await;
    assert_eq!(header(&reply), "250");
    assert_eq!(with("r5").await, 250);

    api.take_requests();
    let report = api.delete("/v1/tenants/acme?force=true", &[]).await.json();
    let requests = api.take_requests();
    println!("a forced delete of a tenant with 250 subtenants: {requests:?}");
    assert_eq!(report["deletedSubtenantIds"].as_array().unwrap().len(), 250);
    assert!(
        api.scan().await.is_empty(),
        "no item left: {:?}",
        api.entity_counts().await
    );
    let total: u64 = requests.values().sum();
    assert!(
        total <= 25,
        "6 transactions of at most 45 subtenants, and the tenant's own: {requests:?}"
    );
}
