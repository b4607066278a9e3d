//! Concurrent writers never overwrite each other silently.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_of_one_name_make_exactly_one_tenant() {
    let api = spawn_app().await;
    let replies = join_all((0..20).map(|i| {
        let api = &api;
        async move {
            api.post(
                "/v1/tenants",
                &json!({"name": if i % 2 == 0 { "Same Name" } else { "SAME name" }}),
            )
            .await
        }
    }))
    .await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    for reply in replies.iter().filter(|r| r.status == 409) {
        assert_eq!(
            reply.code(409),
            "name_taken",
            "a real conflict, never a race handed back"
        );
    }
    let keys = api.keys().await;
    assert_eq!(keys.len(), 2, "one tenant and one guard: {keys:?}");
    assert_eq!(keys[1], "TENANTNAME#same name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_with_one_if_match_let_exactly_one_through() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let replies = join_all((0..10).map(|i| {
        let api = &api;
        async move {
            api.patch(
                "/v1/tenants/acme",
                &json!({"description": format!("writer {i}")}),
                &[("if-match", "\"1\"")],
            )
            .await
        }
    }))
    .await;
    let ok: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        ok.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 412));
    let stored = api.get("/v1/tenants/acme").await.json();
    assert_eq!(stored["version"], 2);
    assert_eq!(
        stored["description"],
        ok[0].json()["description"],
        "the winner's write is the one stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_without_if_match_all_land_and_lose_no_update() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let replies = join_all((0..6).map(|i| {
        let api = &api;
        async move {
            api.patch(
                "/v1/tenants/acme",
                &json!({"metadata": {format!("writer{i}"): "x"}}),
                &[],
            )
            .await
        }
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    // The server resolves its own races: no 409 "retry" for the client.
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let applied = statuses.iter().filter(|s| **s == 200).count();
    let stored = api.get("/v1/tenants/acme").await.json();
    assert_eq!(
        stored["metadata"].as_object().unwrap().len(),
        applied,
        "every 200 is in the stored tenant"
    );
    assert_eq!(stored["version"].as_u64().unwrap() as usize, applied + 1);
}

/// Writers racing on one tenant's members, identity providers and
/// subtenants all land: the server retries its own races with jittered
/// back-off and never answers the client 409 "retry".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_to_one_tenants_facets_all_land() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let members = join_all((0..10).map(|i| {
        let api = &api;
        async move {
            let path = format!("/v1/tenants/acme/members/user-{i}");
            api.send_json_retrying_contention("PUT", &path, &json!({"role": "viewer"}))
                .await
        }
    }));
    let providers = join_all((0..8).map(|i| {
        let api = &api;
        async move {
            let path = format!("/v1/tenants/acme/identity-providers/idp-{i}");
            let body = json!({"type": "oidc", "issuer": format!("https://login{i}.example.com"), "clientId": "c"});
            api.send_json_retrying_contention("PUT", &path, &body).await
        }
    }));
    let subtenants = join_all((0..10).map(|i| {
        let api = &api;
        async move {
            api.send_json_retrying_contention(
                "POST",
                "/v1/tenants/acme/subtenants",
                &json!({"name": format!("Team {i}")}),
            )
            .await
        }
    }));
    let (members, providers, subtenants) = tokio::join!(members, providers, subtenants);
    let statuses =
        |replies: &[(crate::helpers::Reply, u32)]| replies.iter().map(|(r, _)| r.status).collect::<Vec<u16>>();
    let contended: u32 = [&members, &providers, &subtenants]
        .iter()
        .flat_map(|replies| replies.iter().map(|(_, c)| c))
        .sum();
    println!("28 concurrent writes to one tenant's facets: {contended} answered contended first, then landed");
    // Every write lands, none as a 409 "retry", none twice.
    assert_eq!(statuses(&members), [201; 10], "members");
    assert_eq!(statuses(&providers), [201; 8], "identity providers");
    assert_eq!(statuses(&subtenants), [201; 10], "subtenants");
    let tenant = api.get("/v1/tenants/acme").await.json();
    assert_eq!(tenant["subtenantCount"], 10);
    let listed = api.get("/v1/tenants/acme/identity-providers").await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(8), "{listed}");
}
