//! Issue 17 (security hardening): who may see and do what at the edges of
//! the tenant tree. A reused id's new tenant shows nothing of its earlier
//! one (feed, history, jobs); moves out of a subtree and status changes are
//! administered; `production` by update needs `cloneProduction`; a purged or
//! hidden tenant tells a caller who could not see it nothing (404, visibility
//! before permission); a subtenant `offset` walk starts after the access check.

use std::time::{Duration, Instant};

use dev_gateway::stream::{Consumer, StreamPoller};
use serde_json::{json, Value};
use shared::domain::Timestamp;
use shared::service::cleanup::{self, Run};

use crate::helpers::{local_bus, spawn_app, token_for, Reply, TestApi, ADMIN_SCOPE};

/// Calls a route as `user` (no roles: a plain member) with `scope`.
async fn call_as(api: &TestApi, user: &str, scope: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let auth = format!("Bearer {}", token_for(user, &[], scope));
    let headers = [("authorization", auth.as_str())];
    match body {
        Some(body) if method == "PATCH" => api.patch(path, body, &headers).await,
        Some(body) => api.send_json(method, path, body, &headers).await,
        None => api.call(method, path, None, &headers).await,
    }
}

/// Calls a route as `user` with every permission.
async fn as_user(api: &TestApi, user: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    call_as(api, user, ADMIN_SCOPE, method, path, body).await
}

/// Makes `user` a member of `tenant` with `role` (as the platform admin).
async fn member(api: &TestApi, tenant: &str, user: &str, role: &str) {
    let reply = api
        .send_json(
            "PUT",
            &format!("/v1/tenants/{tenant}/members/{user}"),
            &json!({"role": role}),
            &[],
        )
        .await;
    assert!(
        reply.status == 200 || reply.status == 201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

#[track_caller]
fn ok(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", String::from_utf8_lossy(&reply.body));
}

fn names(reply: &Reply) -> Vec<String> {
    ok(reply, 200);
    let mut names = crate::helpers::names(&reply.json());
    names.sort();
    names
}

// Item 4: incarnations.

/// Runs the stream functions on what the stream holds until `count` more
/// events reached the queue (or 20 s went by).
async fn drain(api: &TestApi, poller: &mut StreamPoller, bus: &notifier::Bus, queue: &str, count: usize) {
    let started = Instant::now();
    let mut seen = 0;
    while seen < count && started.elapsed() < Duration::from_secs(20) {
        poller
            .poll_once(api.app(), &[Consumer::Jobs, Consumer::Notifier(bus)])
            .await
            .unwrap();
        seen += local_bus()
            .receive(queue, Duration::from_millis(200))
            .await
            .unwrap()
            .len();
    }
    assert_eq!(seen, count, "events published");
}

fn feed_items(reply: &Reply) -> Vec<Value> {
    ok(reply, 200);
    reply.json()["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["type"].as_str().unwrap().trim_start_matches("io.tenancy.").to_owned())
        .collect()
}

/// A tenant id deleted and created again by another customer: the new
/// tenant's members read none of the earlier tenant's events in the feed
/// (its `tenant.created` with its metadata, `member.added`,
/// `identity_provider.created`, `deployment.created`, nor those of its
/// child); the platform admin still reads them all.
#[tokio::test]
async fn a_reused_ids_new_members_read_nothing_of_its_earlier_tenant_in_the_feed() {
    let api = spawn_app().await;
    let name = format!("sec-{}-{}", std::process::id(), api.table);
    let created = local_bus().bus_and_queue(&name).await.unwrap();
    let (bus, queue) = (local_bus().notifier_bus(&created.bus), created.queue_url);
    let mut poller = StreamPoller::new(&api.endpoint, api.client.clone(), &api.table);

    let first = api
        .create_tenant(json!({"tenantId": "reused", "name": "First Customer", "metadata": {"secret": "first"}}))
        .await;
    api.create_tenant(json!({"tenantId": "reused-eu", "name": "First EU", "parentId": "reused"}))
        .await;
    member(&api, "reused", "first-user", "viewer").await;
    let idp = api
        .send_json(
            "PUT",
            "/v1/tenants/reused/identity-providers/okta",
            &json!({"type": "oidc", "issuer": "https://first.okta.example", "clientId": "c"}),
            &[],
        )
        .await;
    ok(&idp, 201);
    ok(
        &api.post("/v1/tenants/reused/deployments", &json!({"first": true}))
            .await,
        201,
    );
    drain(&api, &mut poller, &bus, &queue, 5).await;
    ok(&api.delete("/v1/tenants/reused?force=true", &[]).await, 200);
    drain(&api, &mut poller, &bus, &queue, 2).await;

    let second = api
        .create_tenant(json!({"tenantId": "reused", "name": "Second Customer"}))
        .await;
    assert_ne!(first["createdAt"], second["createdAt"]);
    member(&api, "reused", "second-user", "admin").await;
    drain(&api, &mut poller, &bus, &queue, 2).await;
    // The feed serves an event once it is settled.
    tokio::time::sleep(shared::store::feed::SETTLE + Duration::from_secs(1)).await;

    let seen = feed_items(&as_user(&api, "second-user", "GET", "/v1/events?limit=100", None).await);
    assert_eq!(
        kinds(&seen),
        ["tenant.created", "member.added"],
        "only the second tenant's events: {seen:#?}"
    );
    assert_eq!(seen[0]["data"]["tenant"]["name"], "Second Customer");
    assert!(seen.iter().all(|e| e["data"].to_string().find("first").is_none()));

    let all = feed_items(&api.get("/v1/events?limit=100").await);
    assert_eq!(
        kinds(&all),
        [
            "tenant.created",
            "tenant.created",
            "member.added",
            "identity_provider.created",
            "deployment.created",
            "tenant.deleted",
            "tenant.deleted",
            "tenant.created",
            "member.added",
        ],
        "the platform admin reads both tenants' events"
    );
    let gone = feed_items(&as_user(&api, "first-user", "GET", "/v1/events?limit=100", None).await);
    assert!(
        gone.is_empty(),
        "a member of the deleted tenant is no member of the new one"
    );
}

/// The audit history and the clone jobs of an id's earlier tenant stay
/// with it: the new tenant's member reads its own history only, and a job
/// whose source and new tenant were earlier tenants of reused ids answers
/// 404 (the platform admin still reads it).
#[tokio::test]
async fn the_history_and_clone_jobs_of_an_ids_earlier_tenant_stay_with_it() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "reused", "name": "First Customer"}))
        .await;
    ok(
        &api.patch("/v1/tenants/reused", &json!({"description": "first"}), &[])
            .await,
        200,
    );
    ok(&api.post("/v1/tenants/reused/deployments", &json!({"v": 1})).await, 201);
    let clone = api
        .post(
            "/v1/tenants/reused/clone",
            &json!({"environment": "test", "name": "First Copy", "tenantId": "reused-copy"}),
        )
        .await;
    ok(&clone, 202);
    let job = clone.json()["jobId"].as_str().unwrap().to_owned();
    shared::service::jobs::run(&api.app().store, &job).await.unwrap();
    ok(&api.delete("/v1/tenants/reused-copy", &[]).await, 204);
    ok(&api.delete("/v1/tenants/reused", &[]).await, 204);

    api.create_tenant(json!({"tenantId": "reused", "name": "Second Customer"}))
        .await;
    api.create_tenant(json!({"tenantId": "reused-copy", "name": "Second Copy"}))
        .await;
    member(&api, "reused", "second-user", "admin").await;
    member(&api, "reused-copy", "second-user", "admin").await;

    let history = as_user(&api, "second-user", "GET", "/v1/tenants/reused/events", None).await;
    ok(&history, 200);
    let body = history.json();
    let actions: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created"], "{body}");
    as_user(&api, "second-user", "GET", &format!("/v1/jobs/{job}"), None)
        .await
        .problem(404);
    ok(&api.get(&format!("/v1/jobs/{job}")).await, 200);
}

// Item 5: moves.

/// root-a → mid → deep and root-b; top, a top-level tenant.
async fn move_world(api: &TestApi) {
    for body in [
        json!({"tenantId": "root-a", "name": "A"}),
        json!({"tenantId": "mid", "name": "Mid", "parentId": "root-a"}),
        json!({"tenantId": "deep", "name": "Deep", "parentId": "mid"}),
        json!({"tenantId": "root-b", "name": "B"}),
        json!({"tenantId": "top", "name": "Top"}),
    ] {
        api.create_tenant(body).await;
    }
}

/// Moving a tenant out of its parent needs the admin role on the old parent
/// (the subtree it leaves) and on the new one (the subtree it joins, as a
/// create there would); a top-level tenant has no subtree to leave: admin on
/// it and on the new parent.
#[tokio::test]
async fn moving_out_of_a_subtree_needs_admin_on_the_old_parent_and_on_the_new_one() {
    let api = spawn_app().await;
    move_world(&api).await;
    member(&api, "root-a", "root-admin", "admin").await;
    member(&api, "deep", "bob", "admin").await;
    member(&api, "root-b", "bob", "operator").await;
    let to_b = json!({"parentId": "root-b"});

    // The case: admin of the deep tenant only, operator elsewhere.
    let refused = as_user(&api, "bob", "PATCH", "/v1/tenants/deep", Some(&to_b)).await;
    let detail = refused.problem(403)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("mid") && detail.contains("admin"), "{detail}");
    member(&api, "root-b", "bob", "admin").await;
    as_user(&api, "bob", "PATCH", "/v1/tenants/deep", Some(&to_b))
        .await
        .problem(403);
    let put = json!({"name": "Deep", "parentId": "root-b"});
    as_user(&api, "bob", "PUT", "/v1/tenants/deep", Some(&put))
        .await
        .problem(403);
    ok(&as_user(&api, "root-admin", "GET", "/v1/tenants/deep", None).await, 200);

    // The root's admin, operator only at the destination: refused there.
    member(&api, "root-b", "root-admin", "operator").await;
    let refused = as_user(&api, "root-admin", "PATCH", "/v1/tenants/deep", Some(&to_b)).await;
    assert!(refused.problem(403)["detail"].as_str().unwrap().contains("'root-b'"));
    member(&api, "root-b", "root-admin", "admin").await;
    let moved = as_user(&api, "root-admin", "PATCH", "/v1/tenants/deep", Some(&to_b)).await;
    ok(&moved, 200);
    assert_eq!(moved.json()["path"], json!(["root-b", "deep"]));
    // To the top: platform admins only.
    as_user(
        &api,
        "root-admin",
        "PATCH",
        "/v1/tenants/mid",
        Some(&json!({"parentId": null})),
    )
    .await
    .problem(403);

    // A top-level tenant: admin on it, and admin where it goes.
    member(&api, "top", "carol", "admin").await;
    member(&api, "root-b", "carol", "operator").await;
    as_user(&api, "carol", "PATCH", "/v1/tenants/top", Some(&to_b))
        .await
        .problem(403);
    member(&api, "root-b", "carol", "admin").await;
    ok(
        &as_user(&api, "carol", "PATCH", "/v1/tenants/top", Some(&to_b)).await,
        200,
    );
}

// Item 6: status changes.

/// parent → tenant → child, with members at each level.
async fn status_world(api: &TestApi) {
    for body in [
        json!({"tenantId": "parent", "name": "Parent"}),
        json!({"tenantId": "tenant", "name": "Tenant", "parentId": "parent"}),
        json!({"tenantId": "child", "name": "Child", "parentId": "tenant"}),
    ] {
        api.create_tenant(body).await;
    }
    for (tenant, user, role) in [
        ("parent", "p-admin", "admin"),
        ("parent", "p-viewer", "viewer"),
        ("tenant", "t-admin", "admin"),
        ("tenant", "t-operator", "operator"),
        ("tenant", "t-viewer", "viewer"),
        ("child", "c-admin", "admin"),
    ] {
        member(api, tenant, user, role).await;
    }
}

/// An operator cannot change a status (PATCH or PUT); an admin can. The
/// inactive tenant and its subtree stay visible to the members above it
/// (whatever their role) and to its own admins; its other members still see
/// it but not its subtree; members below it see nothing of it. Lists agree.
#[tokio::test]
async fn status_changes_need_admin_and_an_inactive_tenant_stays_visible_above_it() {
    let api = spawn_app().await;
    status_world(&api).await;
    let inactive = json!({"status": "inactive"});
    let refused = as_user(&api, "t-operator", "PATCH", "/v1/tenants/tenant", Some(&inactive)).await;
    assert!(refused.problem(403)["detail"].as_str().unwrap().contains("admin"));
    let put = json!({"name": "Tenant", "status": "inactive"});
    as_user(&api, "t-operator", "PUT", "/v1/tenants/tenant", Some(&put))
        .await
        .problem(403);
    // Other fields stay an operator's.
    ok(
        &as_user(
            &api,
            "t-operator",
            "PATCH",
            "/v1/tenants/tenant",
            Some(&json!({"description": "ops"})),
        )
        .await,
        200,
    );
    ok(
        &as_user(&api, "t-admin", "PATCH", "/v1/tenants/tenant", Some(&inactive)).await,
        200,
    );

    for (user, tenant, status) in [
        ("p-admin", "tenant", 200),
        ("p-admin", "child", 200),
        ("p-viewer", "child", 200),
        ("t-admin", "child", 200),
        ("t-viewer", "tenant", 200),
        ("t-viewer", "child", 404),
        ("t-operator", "child", 404),
        ("c-admin", "child", 404),
    ] {
        let reply = as_user(&api, user, "GET", &format!("/v1/tenants/{tenant}"), None).await;
        assert_eq!(reply.status, status, "{user} reads {tenant}");
    }
    for (user, expected) in [
        ("p-admin", &["Child", "Parent", "Tenant"][..]),
        ("p-viewer", &["Child", "Parent", "Tenant"]),
        ("t-admin", &["Child", "Tenant"]),
        ("t-viewer", &["Tenant"]),
        ("c-admin", &[]),
    ] {
        let list = names(&as_user(&api, user, "GET", "/v1/tenants", None).await);
        assert_eq!(list, expected, "{user}'s list");
    }
    for (user, expected) in [
        ("t-viewer", &["tenant"][..]),
        ("t-admin", &["tenant"]),
        ("c-admin", &[]),
    ] {
        let mine = as_user(&api, user, "GET", "/v1/tenants/mine", None).await;
        ok(&mine, 200);
        let ids: Vec<String> = mine.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, expected, "{user}'s tenants");
    }
    // The admin above can change the subtree, and bring it back.
    ok(
        &as_user(
            &api,
            "p-admin",
            "PATCH",
            "/v1/tenants/child",
            Some(&json!({"description": "still managed"})),
        )
        .await,
        200,
    );
    as_user(
        &api,
        "t-operator",
        "PATCH",
        "/v1/tenants/tenant",
        Some(&json!({"status": "active"})),
    )
    .await
    .problem(403);
    ok(
        &as_user(
            &api,
            "p-admin",
            "PATCH",
            "/v1/tenants/tenant",
            Some(&json!({"status": "active"})),
        )
        .await,
        200,
    );
    ok(&as_user(&api, "c-admin", "GET", "/v1/tenants/child", None).await, 200);
}

// Item 7: environment.

/// A cloner allowed only `deployments:cloneTest` cannot turn its test clone
/// into a production tenant by PATCH or PUT (403 naming the permission);
/// with `deployments:cloneProduction`, or as a platform admin, it can; back
/// to test needs nothing more.
#[tokio::test]
async fn moving_a_tenant_to_production_needs_the_clone_production_permission() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "home", "name": "Home"})).await;
    api.create_tenant(json!({"tenantId": "prod", "name": "Prod", "parentId": "home", "environment": "production"}))
        .await;
    ok(
        &api.post("/v1/tenants/prod/deployments", &json!({"secret": 1})).await,
        201,
    );
    member(&api, "home", "cloner", "admin").await;
    let test_only = "tenants:* deployments:read deployments:write deployments:cloneTest";
    let clone = call_as(
        &api,
        "cloner",
        test_only,
        "POST",
        "/v1/tenants/prod/clone",
        Some(&json!({"environment": "test", "name": "Copy", "tenantId": "copy"})),
    )
    .await;
    ok(&clone, 202);
    let job = clone.json()["jobId"].as_str().unwrap().to_owned();
    shared::service::jobs::run(&api.app().store, &job).await.unwrap();

    let to_production = json!({"environment": "production"});
    let refused = call_as(
        &api,
        "cloner",
        test_only,
        "PATCH",
        "/v1/tenants/copy",
        Some(&to_production),
    )
    .await;
    assert!(refused.problem(403)["detail"]
        .as_str()
        .unwrap()
        .contains("deployments:cloneProduction"));
    let put = json!({"name": "Copy", "environment": "production"});
    call_as(&api, "cloner", test_only, "PUT", "/v1/tenants/copy", Some(&put))
        .await
        .problem(403);
    assert_eq!(api.get("/v1/tenants/copy").await.json()["environment"], "test");
    // Other changes of a test tenant need nothing more.
    ok(
        &call_as(
            &api,
            "cloner",
            test_only,
            "PATCH",
            "/v1/tenants/copy",
            Some(&json!({"description": "still a test"})),
        )
        .await,
        200,
    );

    let with_production = format!("{test_only} deployments:cloneProduction");
    let moved = call_as(
        &api,
        "cloner",
        &with_production,
        "PATCH",
        "/v1/tenants/copy",
        Some(&to_production),
    )
    .await;
    ok(&moved, 200);
    assert_eq!(moved.json()["environment"], "production");
    ok(
        &call_as(
            &api,
            "cloner",
            test_only,
            "PATCH",
            "/v1/tenants/copy",
            Some(&json!({"environment": "test"})),
        )
        .await,
        200,
    );
    // A platform admin needs no deployments permission for it.
    let admin_role = api.app().config.auth.admin_role.clone();
    let auth = format!("Bearer {}", token_for("root", &[&admin_role], "tenants:*"));
    let reply = api
        .patch("/v1/tenants/copy", &to_production, &[("authorization", &auth)])
        .await;
    ok(&reply, 200);
}

// Item 9: existence oracles.

async fn purge(api: &TestApi, id: &str) {
    ok(&api.post(&format!("/v1/tenants/{id}/retire"), &json!({})).await, 200);
    let run = Run {
        dry_run: false,
        tenant_ids: None,
        now: Timestamp::now().plus(time::Duration::days(31)),
        retention_days: 30,
        stop_at: Instant::now() + Duration::from_secs(60),
    };
    let summary = cleanup::run(&api.app().store, &run).await.unwrap();
    assert!(summary.purged.iter().any(|p| p.as_str() == id));
}

/// A purged id answers 410 to the platform admin and to members of an
/// ancestor that is still there; to anyone else (a stranger, the purged
/// tenant's own former member) it answers 404, on reads and writes alike.
#[tokio::test]
async fn a_purged_id_answers_410_only_to_those_who_could_see_it() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "parent", "name": "Parent"})).await;
    api.create_tenant(json!({"tenantId": "gone", "name": "Gone", "parentId": "parent"}))
        .await;
    api.create_tenant(json!({"tenantId": "solo", "name": "Solo"})).await;
    member(&api, "parent", "p-viewer", "viewer").await;
    member(&api, "gone", "g-admin", "admin").await;
    member(&api, "solo", "s-admin", "admin").await;
    purge(&api, "gone").await;
    purge(&api, "solo").await;

    api.get("/v1/tenants/gone").await.problem(410);
    api.get("/v1/tenants/solo").await.problem(410);
    as_user(&api, "p-viewer", "GET", "/v1/tenants/gone", None)
        .await
        .problem(410);
    for (user, id) in [
        ("stranger", "gone"),
        ("g-admin", "gone"),
        ("stranger", "solo"),
        ("s-admin", "solo"),
        ("p-viewer", "solo"),
    ] {
        for (method, path, body) in [
            ("GET", format!("/v1/tenants/{id}"), None),
            ("PATCH", format!("/v1/tenants/{id}"), Some(json!({"description": "x"}))),
            ("DELETE", format!("/v1/tenants/{id}"), None),
            ("POST", format!("/v1/tenants/{id}/restore"), None),
            ("GET", format!("/v1/tenants/{id}/subtenants"), None),
            ("GET", format!("/v1/tenants/{id}/members"), None),
        ] {
            let reply = as_user(&api, user, method, &path, body.as_ref()).await;
            assert_eq!(reply.status, 404, "{user}: {method} {path}");
        }
        // Without the permission, the same.
        let reply = call_as(&api, user, "", "GET", &format!("/v1/tenants/{id}"), None).await;
        assert_eq!(reply.status, 404, "{user} without scope: GET {id}");
    }
    // Creating with the id again: taken for everyone (ids are unique), but
    // when it was purged is told only to those who could have seen it.
    let again = json!({"tenantId": "solo", "name": "Solo again"});
    let detail = api.post("/v1/tenants", &again).await.problem(409)["detail"].clone();
    assert!(detail.as_str().unwrap().contains("purged at"), "{detail}");
    let creator_role = api.app().config.auth.creator_role.clone().unwrap();
    let auth = format!("Bearer {}", token_for("s-admin", &[&creator_role], ADMIN_SCOPE));
    let reply = api
        .send_json("POST", "/v1/tenants", &again, &[("authorization", &auth)])
        .await;
    let detail = reply.problem(409)["detail"].as_str().unwrap().to_owned();
    assert!(!detail.contains("purged"), "{detail}");
}

/// Every route about a tenant: as a caller with no permission and no
/// membership, a tenant that exists answers 404, as one that does not;
/// as a member with no permission, 403 naming the permission.
#[tokio::test]
async fn without_the_permission_a_hidden_tenant_is_404_and_a_visible_one_403() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    for (method, path, body) in [
        (
            "POST",
            "/v1/tenants/acme/subtenants",
            json!({"name": "Team", "code": "team"}),
        ),
        (
            "PUT",
            "/v1/tenants/acme/identity-providers/okta",
            json!({"type": "oidc", "issuer": "https://acme.okta.example", "clientId": "c", "domains": ["acme.example"]}),
        ),
        ("POST", "/v1/tenants/acme/deployments", json!({"v": 1})),
    ] {
        let reply = api.send_json(method, path, &body, &[]).await;
        assert!(reply.status < 300, "{path}: {}", String::from_utf8_lossy(&reply.body));
    }
    ok(
        &api.call(
            "PUT",
            "/v1/tenants/acme/identity-providers/okta/groups/admins/group:admins",
            None,
            &[],
        )
        .await,
        201,
    );
    let clone = api
        .post(
            "/v1/tenants/acme/clone",
            &json!({"environment": "test", "name": "Acme Copy"}),
        )
        .await;
    ok(&clone, 202);
    let job = clone.json()["jobId"].as_str().unwrap().to_owned();
    member(&api, "acme", "member", "viewer").await;

    let sub = json!({"name": "Team", "description": "d"});
    let idp = json!({"type": "oidc", "issuer": "https://acme.okta.example", "clientId": "c"});
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/v1/tenants/acme".into(), None),
        ("GET", "/v1/tenants/by-name/Acme".into(), None),
        ("PUT", "/v1/tenants/acme".into(), Some(json!({"name": "Acme"}))),
        ("PATCH", "/v1/tenants/acme".into(), Some(json!({"description": "d"}))),
        ("DELETE", "/v1/tenants/acme".into(), None),
        ("POST", "/v1/tenants/acme/retire".into(), None),
        ("POST", "/v1/tenants/acme/restore".into(), None),
        ("GET", "/v1/tenants/acme/children".into(), None),
        ("GET", "/v1/tenants/acme/ancestors".into(), None),
        ("GET", "/v1/tenants/acme/events".into(), None),
        ("GET", "/v1/tenants/acme/members".into(), None),
        ("GET", "/v1/tenants/acme/members/member".into(), None),
        (
            "PUT",
            "/v1/tenants/acme/members/newbie".into(),
            Some(json!({"role": "viewer"})),
        ),
        ("DELETE", "/v1/tenants/acme/members/member".into(), None),
        ("GET", "/v1/tenants/acme/subtenants".into(), None),
        ("GET", "/v1/subtenants?tenantId=acme".into(), None),
        (
            "POST",
            "/v1/tenants/acme/subtenants".into(),
            Some(json!({"name": "Crew"})),
        ),
        ("GET", "/v1/tenants/acme/subtenants/team".into(), None),
        ("PUT", "/v1/tenants/acme/subtenants/team".into(), Some(sub)),
        (
            "PATCH",
            "/v1/tenants/acme/subtenants/team".into(),
            Some(json!({"description": "d"})),
        ),
        ("DELETE", "/v1/tenants/acme/subtenants/team".into(), None),
        ("GET", "/v1/tenants/acme/identity-providers".into(), None),
        ("GET", "/v1/tenants/acme/identity-providers/okta".into(), None),
        ("PUT", "/v1/tenants/acme/identity-providers/okta".into(), Some(idp)),
        ("DELETE", "/v1/tenants/acme/identity-providers/okta".into(), None),
        ("GET", "/v1/tenants/acme/identity-providers/okta/groups".into(), None),
        (
            "GET",
            "/v1/tenants/acme/identity-providers/okta/groups/admins".into(),
            None,
        ),
        (
            "PUT",
            "/v1/tenants/acme/identity-providers/okta/groups/admins/group:ops".into(),
            None,
        ),
        (
            "DELETE",
            "/v1/tenants/acme/identity-providers/okta/groups/admins".into(),
            None,
        ),
        ("GET", "/v1/identity-providers/by-domain/acme.example".into(), None),
        ("POST", "/v1/tenants/acme/deployments".into(), Some(json!({"v": 2}))),
        ("GET", "/v1/tenants/acme/deployments".into(), None),
        ("GET", "/v1/tenants/acme/deployments/1".into(), None),
        ("GET", "/v1/tenants/acme/deployments/1?download=true".into(), None),
        (
            "POST",
            "/v1/tenants/acme/clone".into(),
            Some(json!({"environment": "test", "name": "Another"})),
        ),
        (
            "POST",
            "/v1/tenants/acme/clone".into(),
            Some(json!({"environment": "production", "name": "Another"})),
        ),
        ("GET", format!("/v1/jobs/{job}"), None),
    ];
    let mut wrong = Vec::new();
    for (method, path, body) in &routes {
        let stranger = call_as(&api, "stranger", "", method, path, body.as_ref()).await;
        if stranger.status != 404 {
            wrong.push(format!("{method} {path} as a stranger: {}", stranger.status));
        }
        let member = call_as(&api, "member", "", method, path, body.as_ref()).await;
        let names_permission = member.status == 403
            && member.json()["detail"]
                .as_str()
                .is_some_and(|d| d.contains("permission"));
        if !names_permission {
            wrong.push(format!(
                "{method} {path} as a member: {} {}",
                member.status,
                String::from_utf8_lossy(&member.body)
            ));
        }
    }
    // A stranger asking for an id that does not exist hears the same.
    let missing = call_as(&api, "stranger", "", "GET", "/v1/tenants/nothing", None).await;
    let hidden = call_as(&api, "stranger", "", "GET", "/v1/tenants/acme", None).await;
    assert_eq!(missing.problem(404)["title"], hidden.problem(404)["title"]);
    // Routes that name no tenant answer 403 to both alike.
    for path in ["/v1/tenants", "/v1/tenants/mine", "/v1/events", "/v1/subtenants"] {
        for user in ["stranger", "member"] {
            let reply = call_as(&api, user, "", "GET", path, None).await;
            if reply.status != 403 {
                wrong.push(format!("GET {path} as {user}: {}", reply.status));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cells differ:\n{}",
        wrong.len(),
        routes.len() * 2,
        wrong.join("\n")
    );
}

// Item 12 (part): the offset walk.

/// `offset` on a tenant's subtenants walks the pages before it: only once
/// the caller is known to see the tenant. A stranger asking for offset
/// 10000 gets 404 from the access check's reads alone (no Query); a member
/// gets the page at the offset.
#[tokio::test]
async fn a_subtenant_offset_walk_starts_only_after_the_access_check() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "big", "name": "Big"})).await;
    // One at a time: 120 at once make DynamoDB Local on a loaded machine
    // answer late (503), which is not what this test is about.
    for i in 0..120 {
        let reply = api
            .post(
                "/v1/tenants/big/subtenants",
                &json!({"name": format!("Group {i:03}"), "code": format!("g{i:03}")}),
            )
            .await;
        ok(&reply, 201);
    }
    member(&api, "big", "member", "viewer").await;

    for path in [
        "/v1/tenants/big/subtenants?offset=10000",
        "/v1/tenants/big/subtenants?offset=110",
        "/v1/subtenants?tenantId=big&offset=10000",
    ] {
        api.take_requests();
        as_user(&api, "stranger", "GET", path, None).await.problem(404);
        let requests = api.take_requests();
        assert!(!requests.contains_key("Query"), "{path}: {requests:?}");
        assert!(requests.values().sum::<u64>() <= 2, "{path}: {requests:?}");
    }
    let page = as_user(
        &api,
        "member",
        "GET",
        "/v1/tenants/big/subtenants?offset=110&sortBy=code",
        None,
    )
    .await;
    ok(&page, 200);
    let body = page.json();
    let codes: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (110..120).map(|i| format!("g{i:03}")).collect();
    assert_eq!(codes, expected);
    let past = as_user(&api, "member", "GET", "/v1/tenants/big/subtenants?offset=10000", None).await;
    ok(&past, 200);
    assert_eq!(past.json()["items"], json!([]));
}
