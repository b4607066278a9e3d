//! Parents, children, ancestors, moves and subtree deletes.

use serde_json::{json, Value};
use shared::domain::TenantId;
use shared::service::pending;
use shared::store::tenants::WrittenWith;
use shared::store::work::{Pending, Work};

use crate::helpers::{spawn_app, TestApi};

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn tenant(api: &TestApi, id: &str) -> Value {
    let reply = api.get(&format!("/v1/tenants/{id}")).await;
    assert_eq!(reply.status, 200, "{id}");
    reply.json()
}

/// root → mid → leaf, plus a second root `other`.
async fn tree(api: &TestApi) {
    api.create_tenant(json!({"tenantId": "root", "name": "Root"})).await;
    api.create_tenant(json!({"tenantId": "mid", "name": "Mid", "parentId": "root"}))
        .await;
    api.create_tenant(json!({"tenantId": "leaf", "name": "Leaf", "parentId": "mid"}))
        .await;
    api.create_tenant(json!({"tenantId": "other", "name": "Other"})).await;
}

#[tokio::test]
async fn children_know_their_parent_path_and_depth() {
    let api = spawn_app().await;
    tree(&api).await;
    let leaf = tenant(&api, "leaf").await;
    assert_eq!(
        (
            leaf["parentId"].as_str(),
            leaf["parentName"].as_str(),
            leaf["depth"].as_u64()
        ),
        (Some("mid"), Some("Mid"), Some(2))
    );
    assert_eq!(leaf["path"], json!(["root", "mid", "leaf"]));
    let root = tenant(&api, "root").await;
    assert_eq!(
        (root["childCount"].as_u64(), root["version"].as_u64()),
        (Some(1), Some(2)),
        "a new child changes the parent"
    );

    assert_eq!(ids(&api.get("/v1/tenants/root/children").await.json()), ["mid"]);
    assert_eq!(
        ids(&api.get("/v1/tenants/leaf/children").await.json()),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&api.get("/v1/tenants/leaf/ancestors").await.json()),
        ["root", "mid"]
    );
    assert_eq!(
        ids(&api.get("/v1/tenants/root/ancestors").await.json()),
        Vec::<String>::new()
    );
    assert_eq!(ids(&api.get("/v1/tenants?parentId=mid").await.json()), ["leaf"]);
    api.get("/v1/tenants/nobody/children").await.problem(404);
    api.get("/v1/tenants/nobody/ancestors").await.problem(404);
    api.get("/v1/tenants/root/children?parentId=x").await.problem(400);
}

#[tokio::test]
async fn children_pages_and_filters_like_any_list() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "root", "name": "Root"})).await;
    for i in 0..7 {
        let status = if i == 3 { "inactive" } else { "active" };
        api.create_tenant(json!({"name": format!("Child {i}"), "parentId": "root", "status": status}))
            .await;
    }
    let first = api.get("/v1/tenants/root/children?limit=4").await.json();
    assert_eq!(first["count"], 4);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = api
        .get(&format!("/v1/tenants/root/children?limit=4&cursor={cursor}"))
        .await
        .json();
    assert_eq!(
        (second["count"].as_u64(), second["nextCursor"].is_null()),
        (Some(3), true)
    );
    let inactive = api
        .get("/v1/tenants/root/children?status=inactive&includeTotal=true")
        .await
        .json();
    assert_eq!(
        (inactive["count"].as_u64(), inactive["total"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_parent_must_exist_and_be_live_and_depth_is_limited() {
    let api = spawn_app().await;
    let reply = api
        .post("/v1/tenants", &json!({"name": "Orphan", "parentId": "nobody"}))
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["parentId"]);

    api.create_tenant(json!({"tenantId": "gone", "name": "Gone"})).await;
    api.call("POST", "/v1/tenants/gone/retire", None, &[]).await;
    api.post("/v1/tenants", &json!({"name": "Late", "parentId": "gone"}))
        .await
        .problem(409);

    // Ten levels: depth 0 to 9.
    let mut parent: Option<String> = None;
    for depth in 0..10 {
        let mut body = json!({"tenantId": format!("level-{depth}"), "name": format!("Level {depth}")});
        if let Some(p) = &parent {
            body["parentId"] = json!(p);
        }
        api.create_tenant(body).await;
        parent = Some(format!("level-{depth}"));
    }
    let too_deep = api
        .post("/v1/tenants", &json!({"name": "Level 10", "parentId": "level-9"}))
        .await;
    assert!(too_deep.problem(409)["detail"].as_str().unwrap().contains("10 levels"));
    assert!(
        api.scan()
            .await
            .iter()
            .all(|i| i["PK"].as_s().unwrap() != "TENANTNAME#level 10"),
        "nothing written"
    );
}

#[tokio::test]
async fn moving_a_subtree_moves_every_descendant() {
    let api = spawn_app().await;
    tree(&api).await;
    let moved = api.patch("/v1/tenants/mid", &json!({"parentId": "other"}), &[]).await;
    assert_eq!(moved.status, 200, "{}", String::from_utf8_lossy(&moved.body));
    assert_eq!(moved.json()["path"], json!(["other", "mid"]));
    let leaf = tenant(&api, "leaf").await;
    assert_eq!(
        (leaf["path"].clone(), leaf["depth"].as_u64()),
        (json!(["other", "mid", "leaf"]), Some(2))
    );
    assert_eq!(tenant(&api, "root").await["childCount"], 0);
    assert_eq!(tenant(&api, "other").await["childCount"], 1);
    assert_eq!(
        ids(&api.get("/v1/tenants/leaf/ancestors").await.json()),
        ["other", "mid"]
    );

    // To the top with PATCH null, back under with PUT; PUT without parentId stays.
    let top = api
        .patch("/v1/tenants/mid", &json!({"parentId": null}), &[])
        .await
        .json();
    assert_eq!((top["depth"].as_u64(), top.get("parentId")), (Some(0), None));
    assert_eq!(tenant(&api, "leaf").await["path"], json!(["mid", "leaf"]));
    let under = api
        .send_json(
            "PUT",
            "/v1/tenants/mid",
            &json!({"name": "Mid", "parentId": "root"}),
            &[],
        )
        .await
        .json();
    assert_eq!(under["path"], json!(["root", "mid"]));
    let stays = api
        .send_json(
            "PUT",
            "/v1/tenants/mid",
            &json!({"name": "Mid", "description": "d"}),
            &[],
        )
        .await
        .json();
    assert_eq!(stays["parentId"], "root");
    assert_eq!(tenant(&api, "leaf").await["path"], json!(["root", "mid", "leaf"]));
    assert!(
        !api.entity_counts().await.contains_key("pending"),
        "no work left behind"
    );
}

#[tokio::test]
async fn moving_under_itself_or_a_descendant_is_refused() {
    let api = spawn_app().await;
    tree(&api).await;
    for target in ["root", "mid", "leaf"] {
        let reply = api.patch("/v1/tenants/root", &json!({"parentId": target}), &[]).await;
        assert!(
            reply.problem(409)["detail"].as_str().unwrap().contains("descendants"),
            "{target}"
        );
    }
    assert_eq!(tenant(&api, "root").await["version"], 2, "nothing changed");
}

#[tokio::test]
async fn a_move_that_would_exceed_the_depth_limit_is_refused() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "a0", "name": "A0"})).await;
    for depth in 1..9 {
        api.create_tenant(json!({"tenantId": format!("a{depth}"), "name": format!("A{depth}"), "parentId": format!("a{}", depth - 1)}))
            .await;
    }
    tree(&api).await; // root(0) → mid(1) → leaf(2)
                      // Under a8 (depth 8), mid would sit at 9 and leaf at 10.
    api.patch("/v1/tenants/mid", &json!({"parentId": "a8"}), &[])
        .await
        .problem(409);
    assert_eq!(
        api.patch("/v1/tenants/leaf", &json!({"parentId": "a8"}), &[])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn renaming_a_parent_renames_it_in_its_children() {
    let api = spawn_app().await;
    tree(&api).await;
    api.patch("/v1/tenants/mid", &json!({"name": "Middle"}), &[]).await;
    assert_eq!(tenant(&api, "leaf").await["parentName"], "Middle");
}

#[tokio::test]
async fn deleting_a_parent_needs_force_and_dry_run_deletes_nothing() {
    let api = spawn_app().await;
    tree(&api).await;
    api.create_tenant(json!({"tenantId": "leaf-two", "name": "Leaf Two", "parentId": "mid", "tags": ["t"], "externalIds": {"1": "x"}}))
        .await;
    let refused = api.delete("/v1/tenants/root", &[]).await;
    assert!(refused.problem(409)["detail"].as_str().unwrap().contains("force=true"));

    let before = api.scan().await.len();
    let dry = api.delete("/v1/tenants/root?dryRun=true", &[]).await;
    assert_eq!(dry.status, 200);
    assert_eq!(
        dry.json(),
        json!({"deletedTenantIds": ["root", "mid", "leaf", "leaf-two"], "deletedSubtenantIds": [], "dryRun": true})
    );
    assert_eq!(api.scan().await.len(), before, "a dry run changes nothing");

    let forced = api.delete("/v1/tenants/root?force=true", &[]).await;
    assert_eq!(
        forced.json(),
        json!({"deletedTenantIds": ["root", "mid", "leaf", "leaf-two"], "deletedSubtenantIds": [], "dryRun": false})
    );
    assert_eq!(api.keys().await, ["TENANT#other", "TENANTNAME#other"]);
    let counts = api.entity_counts().await;
    assert_eq!(
        (counts.get("facet"), counts.get("pending"), counts["event"]),
        (Some(&2), None, 1),
        "only Other's history, its own subtree facet and its name prefixes' facet are left"
    );
    for id in ["root", "mid", "leaf", "leaf-two"] {
        api.get(&format!("/v1/tenants/{id}")).await.problem(404);
    }
    assert_eq!(
        api.delete("/v1/tenants/other?force=true", &[]).await.json()["deletedTenantIds"],
        json!(["other"])
    );
}

#[tokio::test]
async fn deleting_a_child_updates_its_parent() {
    let api = spawn_app().await;
    tree(&api).await;
    assert_eq!(api.delete("/v1/tenants/leaf", &[]).await.status, 204);
    assert_eq!(tenant(&api, "mid").await["childCount"], 0);
    assert_eq!(api.delete("/v1/tenants/mid", &[]).await.status, 204);
}

/// A request cut off after its move committed leaves the subtree's paths to
/// finish; the next move finishes them before judging cycles, so the stale
/// paths can never let a cycle in.
#[tokio::test]
async fn an_interrupted_move_is_finished_before_the_next_and_never_allows_a_cycle() {
    let api = spawn_app().await;
    tree(&api).await; // root → mid → leaf; other
    let store = &api.app().store;
    let mid = store
        .get_tenant(&TenantId::parse("mid").unwrap())
        .await
        .unwrap()
        .unwrap();
    let other = store
        .get_tenant(&TenantId::parse("other").unwrap())
        .await
        .unwrap()
        .unwrap();
    let moved = mid.placed(Some(&other));
    let moved = shared::domain::Tenant {
        version: mid.version + 1,
        ..moved
    };
    let work = Pending::new(Work::MoveSubtree {
        tenant_id: mid.id.clone(),
        old_root: TenantId::parse("root").unwrap(),
        old_path: mid.path_string(),
    });
    let root_id = TenantId::parse("root").unwrap();
    let with = WrittenWith {
        parents: vec![
            shared::store::tenants::ParentDelta::Loses(&root_id),
            shared::store::tenants::ParentDelta::Gains(&other),
        ],
        pending: vec![work.item().unwrap()],
        ..Default::default()
    };
    store.update_tenant_if_version(&mid, &moved, with).await.unwrap();
    // Cut off here: leaf still has its old path.
    assert_eq!(tenant(&api, "leaf").await["path"], json!(["root", "mid", "leaf"]));

    // other → under leaf would be a cycle (leaf is now under other).
    let reply = api.patch("/v1/tenants/other", &json!({"parentId": "leaf"}), &[]).await;
    reply.problem(409);
    assert_eq!(
        tenant(&api, "leaf").await["path"],
        json!(["other", "mid", "leaf"]),
        "the pending work was finished"
    );
    assert!(!api.entity_counts().await.contains_key("pending"));
    assert_eq!(pending::complete_all(store).await.unwrap(), 0);
}
