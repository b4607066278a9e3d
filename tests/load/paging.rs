//! Paging a large list at every page size, while other writers go on.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{spawn_app_without_stream, TestApi};

/// (id, name) of every item of a list, in order.
async fn walk(api: &TestApi, query: &str) -> Vec<(String, String)> {
    let pages = api.pages(query).await;
    let items = pages.iter().flat_map(|p| p["items"].as_array().unwrap().clone());
    items
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_tenants_page_at_every_size_from_1_to_100_while_others_write() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let api = spawn_app_without_stream().await;
    for chunk in (0..500).collect::<Vec<_>>().chunks(25) {
        join_all(
            chunk.iter().map(|i| {
                api.create_tenant(json!({"tenantId": format!("base-{i:03}"), "name": format!("Base {i:03}")}))
            }),
        )
        .await;
    }
    let base: Vec<String> = (0..500).map(|i| format!("base-{i:03}")).collect();

    let done = AtomicBool::new(false);
    let writer = async {
        let mut n = 0;
        // A steady trickle (at most 150 extra tenants), not a flood that grows the list for ever.
        while !done.load(Ordering::Relaxed) && n < 150 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            // New tenants land before, among and after the base names; some get renamed.
            let name = ["Aaa", "Base 250x", "Zzz"][n % 3];
            let id = format!("extra-{n}");
            api.create_tenant(json!({"tenantId": id, "name": format!("{name} {n}")}))
                .await;
            if n % 2 == 0 {
                let renamed = api
                    .patch(
                        &format!("/v1/tenants/{id}"),
                        &json!({"name": format!("Base 1{n} moved")}),
                        &[],
                    )
                    .await;
                assert_eq!(renamed.status, 200);
            }
            n += 1;
        }
        n
    };
    let reader = async {
        let mut pages_walked = BTreeMap::new();
        for limit in 1..=100 {
            let seen = walk(&api, &format!("limit={limit}")).await;
            let base_seen: Vec<&String> = seen
                .iter()
                .map(|(id, _)| id)
                .filter(|id| id.starts_with("base-"))
                .collect();
            assert_eq!(
                base_seen,
                base.iter().collect::<Vec<_>>(),
                "limit {limit}: every base tenant once, in order"
            );
            let names: Vec<&String> = seen.iter().map(|(_, n)| n).collect();
            let mut sorted = names.clone();
            sorted.sort_by_key(|n| n.to_lowercase());
            assert_eq!(names, sorted, "limit {limit}: pages are in name order");
            pages_walked.insert(limit, seen.len());
        }
        done.store(true, Ordering::Relaxed);
        pages_walked
    };
    let (written, _) = tokio::join!(writer, reader);
    assert!(written > 0, "the writer ran alongside");
}
