//! The scheduled clean-up: retention, exactness, restores, resumption, dry runs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;
use shared::domain::{TenantId, Timestamp};
use shared::service::cleanup::{self, Run, Summary};

use crate::helpers::{spawn_app, Item, TestApi};

/// Retires a tenant and answers its `retiredAt`.
async fn retire(api: &TestApi, id: &str) -> Timestamp {
    let reply = api
        .send_json(
            "POST",
            &format!("/v1/tenants/{id}/retire"),
            &json!({"reason": "churned"}),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    Timestamp::parse(reply.json()["retiredAt"].as_str().unwrap()).unwrap()
}

async fn run_at(api: &TestApi, now: Timestamp, dry_run: bool) -> Summary {
    let run = Run {
        dry_run,
        tenant_ids: None,
        now,
        retention_days: 30,
        stop_at: Instant::now() + Duration::from_secs(60),
    };
    cleanup::run(&api.app().store, &run).await.unwrap()
}

fn days(d: i64) -> time::Duration {
    time::Duration::days(d)
}

/// An attribute value as JSON with sorted keys (binary as its bytes).
fn json(value: &aws_sdk_dynamodb::types::AttributeValue) -> serde_json::Value {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    match value {
        A::M(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        A::L(list) => list.iter().map(json).collect(),
        A::B(blob) => serde_json::json!({"B": blob.as_ref()}),
        other => serde_json::Value::String(format!("{other:?}")),
    }
}

/// Every item, by (PK, SK), rendered to compare.
async fn snapshot(api: &TestApi) -> BTreeMap<(String, String), String> {
    let key = |i: &Item| (i["PK"].as_s().unwrap().clone(), i["SK"].as_s().unwrap().clone());
    let render = |i: &Item| json(&aws_sdk_dynamodb::types::AttributeValue::M(i.clone())).to_string();
    api.scan().await.iter().map(|i| (key(i), render(i))).collect()
}

/// A tenant with a bit of everything: tags, an external id, a member, a
/// subtenant, an identity provider with a login domain and a group
/// mapping, some history.
async fn rich_tenant(api: &TestApi, id: &str, name: &str) {
    api.create_tenant(json!({"tenantId": id, "name": name, "tags": ["a", "b"], "externalIds": {"1": id}}))
        .await;
    let idp = json!({"type": "oidc", "issuer": "https://login.example.com", "clientId": "c", "domains": [format!("{id}.example")]});
    let base = format!("/v1/tenants/{id}/identity-providers/sso");
    assert_eq!(api.send_json("PUT", &base, &idp, &[]).await.status, 201);
    assert_eq!(
        api.call("PUT", &format!("{base}/groups/staff/group:members"), None, &[])
            .await
            .status,
        201
    );
    api.send_json(
        "PUT",
        &format!("/v1/tenants/{id}/members/bob"),
        &json!({"role": "viewer"}),
        &[],
    )
    .await;
    api.post(&format!("/v1/tenants/{id}/subtenants"), &json!({"name": "Team"}))
        .await;
    api.patch(&format!("/v1/tenants/{id}"), &json!({"description": "d"}), &[])
        .await;
    let deployments = format!("/v1/tenants/{id}/deployments");
    assert_eq!(api.post(&deployments, &json!({"v": 1})).await.status, 201);
    assert_eq!(api.post(&deployments, &json!({"v": 2})).await.status, 201);
}

#[tokio::test]
async fn a_purged_clone_takes_the_job_that_made_it() {
    let api = spawn_app().await;
    rich_tenant(&api, "kept", "Kept").await;
    let clone = api
        .post(
            "/v1/tenants/kept/clone",
            &json!({"environment": "test", "name": "Copy", "tenantId": "copy"}),
        )
        .await;
    assert_eq!(clone.status, 202, "{}", String::from_utf8_lossy(&clone.body));
    let job = clone.json()["jobId"].as_str().unwrap().to_owned();
    let store = &api.app().store;
    assert_eq!(
        shared::service::jobs::run(store, &job).await.unwrap(),
        shared::service::jobs::Outcome::Succeeded
    );
    let retired_at = retire(&api, "copy").await;
    let before = snapshot(&api).await;
    let summary = run_at(&api, retired_at.plus(days(31)), false).await;
    assert_eq!(summary.purged, [TenantId::parse("copy").unwrap()]);
    let after = snapshot(&api).await;
    let removed: BTreeSet<&String> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .map(|(pk, _)| pk)
        .collect();
    assert_eq!(
        removed,
        BTreeSet::from([
            &"TENANT#copy".to_owned(),
            &"TENANTNAME#copy".to_owned(),
            &format!("JOB#{job}")
        ]),
        "the copy's items (its deployment among them) and its job"
    );
    assert!(store.get_job(&job).await.unwrap().is_none());
}

#[tokio::test]
async fn the_retention_boundary_is_exact() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let retired_at = retire(&api, "acme").await;
    let early = run_at(&api, retired_at.plus(days(30) - time::Duration::hours(1)), false).await;
    assert_eq!(
        (early.candidates, early.purged.len()),
        (0, 0),
        "29 days 23 hours: stays"
    );
    let due = run_at(&api, retired_at.plus(days(30) + time::Duration::seconds(1)), false).await;
    assert_eq!(
        due.purged,
        [TenantId::parse("acme").unwrap()],
        "30 days and a second: goes"
    );
    assert!(!due.stopped_early);
}

#[tokio::test]
async fn a_purge_removes_exactly_the_tenant_and_what_it_owns() {
    let api = spawn_app().await;
    rich_tenant(&api, "gone", "Gone").await;
    rich_tenant(&api, "kept", "Kept").await;
    api.create_tenant(json!({"tenantId": "kept-child", "name": "Kept Child", "parentId": "kept"}))
        .await;
    let retired_at = retire(&api, "gone").await;
    let before = snapshot(&api).await;

    let purged_at = retired_at.plus(days(31));
    let summary = run_at(&api, purged_at, false).await;
    assert_eq!(summary.purged, [TenantId::parse("gone").unwrap()]);
    let after = snapshot(&api).await;

    let owned =
        |(pk, _): &(String, String)| ["TENANT#gone", "TENANTNAME#gone", "DOMAIN#gone.example"].contains(&pk.as_str());
    let removed: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert!(
        removed.iter().all(|k| owned(k)),
        "only the purged tenant's items go: {removed:?}"
    );
    for (key, item) in &before {
        if !owned(key) {
            assert_eq!(after.get(key), Some(item), "{key:?} is untouched");
        }
    }
    let left: Vec<_> = after.keys().filter(|k| owned(k)).collect();
    assert_eq!(
        left,
        [
            &("TENANT#gone".to_owned(), "TENANT".to_owned()),
            &("TENANTNAME#gone".to_owned(), format!("PURGED#{purged_at}")),
        ],
        "only the tombstone stays, and the mark of the purge under its name"
    );
    assert_eq!(
        summary.items_deleted as usize,
        removed.len() + 1,
        "the summary counts what went, the tenant item too"
    );

    // The tombstone answers 410 and holds the id; the name is free.
    let gone = api.get("/v1/tenants/gone").await.problem(410);
    assert!(gone["detail"].as_str().unwrap().contains("purged"));
    let taken = api
        .post("/v1/tenants", &json!({"tenantId": "gone", "name": "Again"}))
        .await;
    assert!(taken.problem(409)["detail"].as_str().unwrap().contains("purged"));
    api.create_tenant(json!({"name": "Gone"})).await;
    assert!(api.get("/v1/tenants?status=retired").await.json()["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_restore_before_the_purge_wins_and_a_purge_under_way_cannot_be_restored() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.create_tenant(json!({"tenantId": "globex", "name": "Globex"})).await;
    let retired_at = retire(&api, "acme").await;
    retire(&api, "globex").await;
    let store = &api.app().store;
    let selected = store
        .get_tenant(&TenantId::parse("acme").unwrap())
        .await
        .unwrap()
        .unwrap();
    api.call("POST", "/v1/tenants/acme/restore", None, &[]).await;
    assert!(
        store.mark_purging(&selected, Timestamp::now()).await.unwrap().is_none(),
        "the selection is stale: no purge"
    );
    let summary = run_at(&api, retired_at.plus(days(31)), false).await;
    assert_eq!(
        summary.purged,
        [TenantId::parse("globex").unwrap()],
        "acme is active again"
    );
    assert_eq!(api.get("/v1/tenants/acme").await.status, 200);

    retire(&api, "acme").await;
    let acme = store
        .get_tenant(&TenantId::parse("acme").unwrap())
        .await
        .unwrap()
        .unwrap();
    store.mark_purging(&acme, Timestamp::now()).await.unwrap().unwrap();
    let refused = api.call("POST", "/v1/tenants/acme/restore", None, &[]).await;
    assert!(refused.problem(409)["detail"].as_str().unwrap().contains("purged"));
}

#[tokio::test]
async fn a_run_cut_off_mid_tenant_is_finished_by_the_next() {
    let api = spawn_app().await;
    rich_tenant(&api, "acme", "Acme").await;
    let retired_at = retire(&api, "acme").await;
    let store = &api.app().store;
    // What a run killed in the middle of the purge leaves: marked, half emptied.
    let acme = store
        .get_tenant(&TenantId::parse("acme").unwrap())
        .await
        .unwrap()
        .unwrap();
    let marked = store.mark_purging(&acme, Timestamp::now()).await.unwrap().unwrap();
    let some = store.owned_keys(&marked, 3).await.unwrap();
    assert_eq!(store.delete_items(some).await.unwrap(), 3);

    let resumed = run_at(&api, retired_at.plus(days(31)), false).await;
    assert_eq!(resumed.purged, [TenantId::parse("acme").unwrap()]);
    let mut keys: Vec<String> = api
        .scan()
        .await
        .iter()
        .map(|i| format!("{} {}", i["PK"].as_s().unwrap(), i["SK"].as_s().unwrap()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "TENANT#acme TENANT".to_owned(),
            format!("TENANTNAME#acme PURGED#{}", retired_at.plus(days(31))),
        ],
        "everything gone but the tombstone and the mark of the purge under its name"
    );
    api.get("/v1/tenants/acme").await.problem(410);
    let again = run_at(&api, retired_at.plus(days(31)), false).await;
    assert_eq!(
        (again.candidates, again.purged.len()),
        (0, 0),
        "the next run finds nothing to do"
    );
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_a_stop_is_reported() {
    let api = spawn_app().await;
    rich_tenant(&api, "acme", "Acme").await;
    let retired_at = retire(&api, "acme").await;
    let before = snapshot(&api).await;
    let dry = run_at(&api, retired_at.plus(days(31)), true).await;
    assert_eq!(
        (dry.dry_run, dry.candidates, dry.purged.len(), dry.items_deleted),
        (true, 1, 1, 0)
    );
    assert_eq!(snapshot(&api).await, before);

    let run = Run {
        dry_run: false,
        tenant_ids: None,
        now: retired_at.plus(days(31)),
        retention_days: 30,
        stop_at: Instant::now(),
    };
    let stopped = cleanup::run(&api.app().store, &run).await.unwrap();
    assert!(
        stopped.stopped_early && stopped.purged.is_empty(),
        "past its deadline a run starts nothing"
    );
}

#[tokio::test]
async fn a_retired_parent_waits_for_its_children() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "parent", "name": "Parent"})).await;
    api.create_tenant(json!({"tenantId": "child", "name": "Child", "parentId": "parent"}))
        .await;
    let retired_at = retire(&api, "parent").await;
    retire(&api, "child").await;
    let first = run_at(&api, retired_at.plus(days(31)), false).await;
    assert_eq!(first.purged, [TenantId::parse("child").unwrap()]);
    assert_eq!(first.skipped.len(), 1);
    assert!(first.skipped[0].reason.contains("child"));
    let second = run_at(&api, retired_at.plus(days(31)), false).await;
    assert_eq!(second.purged, [TenantId::parse("parent").unwrap()]);
}

#[tokio::test]
async fn operators_name_tenants_and_the_schedule_event_runs() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let settings = cleanup_fn::Settings {
        retention_days: 30,
        margin: Duration::from_secs(1),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let named = cleanup_fn::handle(
        api.app(),
        &settings,
        &json!({"tenantIds": ["acme", "nobody"]}),
        deadline,
    )
    .await
    .unwrap();
    let reasons: Vec<&str> = named.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons, ["not retired", "no such tenant"]);
    for name in ["cleanup-schedule", "cleanup-dry-run"] {
        let event: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap(),
        )
        .unwrap();
        let summary = cleanup_fn::handle(api.app(), &settings, &event, deadline)
            .await
            .unwrap();
        assert_eq!(summary.dry_run, name == "cleanup-dry-run");
    }
    assert!(
        cleanup_fn::handle(api.app(), &settings, &json!({"force": true}), deadline)
            .await
            .is_err()
    );
}

/// A purged tenant looked up by name answers as by id: 410 to whoever could
/// have seen it, 404 to anyone else (with or without the read permission),
/// until a new tenant takes the name.
#[tokio::test]
async fn a_purged_tenant_is_gone_by_name_as_by_id_to_those_who_could_have_seen_it() {
    use crate::helpers::token_for;
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.create_tenant(json!({"tenantId": "acme-eu", "name": "Acme EU", "parentId": "acme"}))
        .await;
    api.create_tenant(json!({"tenantId": "globex", "name": "Globex"})).await;
    for (tenant, user) in [("acme", "alice"), ("globex", "bob"), ("acme-eu", "erin")] {
        let member = api
            .send_json(
                "PUT",
                &format!("/v1/tenants/{tenant}/members/{user}"),
                &json!({"role": "viewer"}),
                &[],
            )
            .await;
        assert_eq!(member.status, 201);
    }
    let retired_at = retire(&api, "acme-eu").await;
    assert_eq!(
        api.get("/v1/tenants/by-name/acme%20eu").await.status,
        200,
        "retired, not yet purged"
    );
    let summary = run_at(&api, retired_at.plus(days(31)), false).await;
    assert_eq!(summary.purged, [TenantId::parse("acme-eu").unwrap()]);

    let as_user = |user: &'static str, scope: &'static str| {
        let api = &api;
        async move {
            let auth = format!("Bearer {}", token_for(user, &[], scope));
            let by_name = api
                .call(
                    "GET",
                    "/v1/tenants/by-name/ACME%20eu",
                    None,
                    &[("authorization", &auth)],
                )
                .await;
            let by_id = api
                .call("GET", "/v1/tenants/acme-eu", None, &[("authorization", &auth)])
                .await;
            (by_name, by_id)
        }
    };
    let admin = (
        api.get("/v1/tenants/by-name/Acme%20EU").await,
        api.get("/v1/tenants/acme-eu").await,
    );
    // The purged tenant's own members went with it: erin could see it only
    // through its memberships, so it learns nothing now.
    for ((by_name, by_id), status, who) in [
        (admin, 410, "a platform admin"),
        (as_user("alice", "tenants:read").await, 410, "a viewer of its parent"),
        (
            as_user("alice", "subtenants:read").await,
            410,
            "one without tenants:read who could see it",
        ),
        (as_user("bob", "tenants:read").await, 404, "a member elsewhere"),
        (
            as_user("bob", "subtenants:read").await,
            404,
            "a member elsewhere without tenants:read",
        ),
        (
            as_user("erin", "tenants:read").await,
            404,
            "a member of the purged tenant only",
        ),
    ] {
        let name_problem = by_name.problem(status);
        let id_problem = by_id.problem(status);
        assert_eq!(name_problem["code"], id_problem["code"], "{who}");
        let code = if status == 410 { "purged" } else { "not_found" };
        assert_eq!(name_problem["code"], code, "{who}");
    }
    let unknown = api.get("/v1/tenants/by-name/Never%20There").await.problem(404);
    assert_eq!(unknown["code"], "not_found");

    // The name is free: a new tenant takes it, and the lookup finds it.
    let again = api
        .create_tenant(json!({"tenantId": "acme-eu-2", "name": "Acme EU"}))
        .await;
    let found = api.get("/v1/tenants/by-name/acme%20eu").await;
    assert_eq!(found.status, 200);
    assert_eq!(found.json()["id"], again["id"]);
    api.get("/v1/tenants/acme-eu").await.problem(410);
}
