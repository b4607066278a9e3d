//! What a list page costs, measured in DynamoDB requests, on 1,000 and on
//! 10,000 tenants: the same.

use std::collections::BTreeMap;

use dev_gateway::dataset;

use crate::helpers::{spawn_app_without_stream, TestApi};

/// Writes tenants `range` of the scale data set (10,000 in all).
async fn seed(api: &TestApi, range: std::ops::Range<usize>) {
    let children = ((10_000 - dataset::PARENTS) / dataset::PARENTS) as u32;
    let items = dataset::scale_items(range, children, api.app().store.list_shards());
    crate::seed_items(api, &items).await;
}

const QUERIES: &[&str] = &[
    "",
    "sort=name%20desc",
    "sort=createdAt%20desc",
    "name=tenant%2000",
    "status=inactive",
    "environment=test",
    "type=ServiceProvider",
    "tags=tag-3",
    "tags=tag-3,group-1",
    "externalId=crm:4321",
    "parentId=t00007",
    "resellerId=r3",
    "resellerId=r3&environment=test",
    "includeTotal=true&resellerId=r3",
    "identityProviderId=idp-5",
];

/// (requests by operation, items returned) of one page of 25 for each query.
async fn measure(api: &TestApi) -> Vec<(String, BTreeMap<String, u64>, usize)> {
    let mut rows = Vec::new();
    for query in QUERIES {
        api.take_requests();
        let reply = api.get(&format!("/v1/tenants?limit=25&{query}")).await;
        assert_eq!(reply.status, 200, "{query}: {}", String::from_utf8_lossy(&reply.body));
        let count = reply.json()["count"].as_u64().unwrap() as usize;
        rows.push((query.to_string(), api.take_requests(), count));
    }
    rows
}

fn table(size: usize, rows: &[(String, BTreeMap<String, u64>, usize)]) -> String {
    let mut out = format!("\n| query (page of 25, {size} tenants) | DynamoDB requests | items |\n|---|---|---|\n");
    for (query, requests, count) in rows {
        let detail: Vec<String> = requests.iter().map(|(op, n)| format!("{n} {op}")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {count} |\n",
            if query.is_empty() { "(none)" } else { query },
            detail.join(" + ")
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_list_page_costs_the_same_on_1k_and_10k_tenants() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let api = spawn_app_without_stream().await;
    seed(&api, 0..1_000).await;
    let small = measure(&api).await;
    seed(&api, 1_000..10_000).await;
    let large = measure(&api).await;
    println!("{}{}", table(1_000, &small), table(10_000, &large));

    // Filters an index answers: one Query for a full page, whatever the size.
    let one_query = BTreeMap::from([("Query".to_owned(), 1)]);
    let indexed = [
        "",
        "sort=name%20desc",
        "sort=createdAt%20desc",
        "name=tenant%2000",
        "parentId=t00007",
        "resellerId=r3",
    ];
    for ((query, at_1k, _), (_, at_10k, items)) in small.iter().zip(&large) {
        if indexed.contains(&query.as_str()) {
            assert_eq!((at_1k, at_10k, *items), (&one_query, &one_query, 25), "{query}");
        }
        // Anything else is bounded: at most 4 calls of each kind per page.
        if !query.contains("includeTotal") {
            assert!(at_10k.values().all(|n| *n <= 4), "{query}: {at_10k:?}");
        }
    }
    let facet = BTreeMap::from([("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)]);
    assert_eq!(
        (&large[7].1, large[7].2),
        (&facet, 25),
        "a tag page: one Query on the facet index, one BatchGetItem"
    );
    assert_eq!((&large[9].1, large[9].2), (&facet, 1), "an external id: the same");
    for (at, size) in [(&small[14], 1_000), (&large[14], 10_000)] {
        assert_eq!((&at.1, at.2), (&facet, 25), "an identity provider at {size}: the same");
    }
}
