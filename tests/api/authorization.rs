//! Who sees and may do what, on every route: the matrix of routes × kinds
//! of caller, with the exact status each gets; and what lists show them.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::helpers::{names, spawn_app, token_for, Reply, TestApi, ADMIN_SCOPE};

/// The kinds of caller, each a token.
const KINDS: &[&str] = &[
    "platform",
    "t-admin",
    "t-operator",
    "t-viewer",
    "p-admin",
    "s-admin",
    "c-admin",
    "nobody",
    "no-scope",
];

fn token(kind: &str) -> String {
    match kind {
        "platform" => token_for("root", &["tenancy:admin"], ADMIN_SCOPE),
        "no-scope" => token_for("t-admin", &[], ""),
        user => token_for(user, &[], ADMIN_SCOPE),
    }
}

/// parent → tenant → child, parent → sibling, and `other`; memberships:
/// t-admin/t-operator/t-viewer on tenant, p-admin on parent, s-admin on
/// sibling, c-admin on child.
async fn world(api: &TestApi) {
    let tenants = [
        json!({"tenantId": "parent", "name": "Parent"}),
        json!({"tenantId": "tenant", "name": "Tenant", "parentId": "parent", "tags": ["t"], "resellerId": "r", "externalIds": {"1": "T"}}),
        json!({"tenantId": "child", "name": "Child", "parentId": "tenant"}),
        json!({"tenantId": "sibling", "name": "Sibling", "parentId": "parent", "tags": ["t"], "resellerId": "r"}),
        json!({"tenantId": "other", "name": "Other", "tags": ["t"]}),
    ];
    for body in tenants {
        api.create_tenant(body).await;
    }
    for (tenant, user, role) in [
        ("tenant", "t-admin", "admin"),
        ("tenant", "t-operator", "operator"),
        ("tenant", "t-viewer", "viewer"),
        ("parent", "p-admin", "admin"),
        ("sibling", "s-admin", "admin"),
        ("child", "c-admin", "admin"),
    ] {
        let reply = api
            .send_json(
                "PUT",
                &format!("/v1/tenants/{tenant}/members/{user}"),
                &json!({"role": role}),
                &[],
            )
            .await;
        assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    }
    let team = api
        .post(
            "/v1/tenants/tenant/subtenants",
            &json!({"name": "Team", "code": "team"}),
        )
        .await;
    assert_eq!(team.status, 201, "{}", String::from_utf8_lossy(&team.body));
    let okta = api
        .send_json(
            "PUT",
            "/v1/tenants/tenant/identity-providers/okta",
            &json!({"type": "oidc", "issuer": "https://tenant.okta.example", "clientId": "c", "domains": ["tenant.example"]}),
            &[],
        )
        .await;
    assert_eq!(okta.status, 201, "{}", String::from_utf8_lossy(&okta.body));
    let admins = api
        .call(
            "PUT",
            "/v1/tenants/tenant/identity-providers/okta/groups/admins/group:tenant-admins",
            None,
            &[],
        )
        .await;
    assert_eq!(admins.status, 201, "{}", String::from_utf8_lossy(&admins.body));
}

/// A route of the matrix: how to call it, what to set up first, and the
/// status for each kind of caller (in `KINDS` order).
struct Case {
    route: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    setup: Option<&'static str>,
    statuses: [u16; 9],
}

const READ: [u16; 9] = [200, 200, 200, 200, 200, 404, 404, 404, 403];
const WRITE: [u16; 9] = [200, 200, 200, 403, 200, 404, 404, 404, 403];
const ADMIN: [u16; 9] = [200, 200, 403, 403, 200, 404, 404, 404, 403];

fn cases() -> Vec<Case> {
    let case = |route, method, path, body: Option<Value>, statuses| Case {
        route,
        method,
        path,
        body,
        setup: None,
        statuses,
    };
    vec![
        case(
            "GET /v1/tenants",
            "GET",
            "/v1/tenants",
            None,
            [200, 200, 200, 200, 200, 200, 200, 200, 403],
        ),
        case(
            "GET /v1/tenants/mine",
            "GET",
            "/v1/tenants/mine",
            None,
            [200, 200, 200, 200, 200, 200, 200, 200, 403],
        ),
        case("GET /v1/tenants/{id}", "GET", "/v1/tenants/tenant", None, READ),
        case(
            "GET /v1/tenants/by-name/{name}",
            "GET",
            "/v1/tenants/by-name/tenant",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/children",
            "GET",
            "/v1/tenants/tenant/children",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/ancestors",
            "GET",
            "/v1/tenants/tenant/ancestors",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/events",
            "GET",
            "/v1/tenants/tenant/events",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/members",
            "GET",
            "/v1/tenants/tenant/members",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/members/{userId}",
            "GET",
            "/v1/tenants/tenant/members/t-viewer",
            None,
            READ,
        ),
        case(
            "PUT /v1/tenants/{id}",
            "PUT",
            "/v1/tenants/tenant",
            Some(json!({"name": "Tenant", "description": "d"})),
            WRITE,
        ),
        case(
            "PATCH /v1/tenants/{id}",
            "PATCH",
            "/v1/tenants/tenant",
            Some(json!({"description": "d"})),
            WRITE,
        ),
        case(
            "POST /v1/tenants/{id}/retire",
            "POST",
            "/v1/tenants/tenant/retire",
            None,
            ADMIN,
        ),
        Case {
            setup: Some("/v1/tenants/tenant/retire"),
            ..case(
                "POST /v1/tenants/{id}/restore",
                "POST",
                "/v1/tenants/tenant/restore",
                None,
                ADMIN,
            )
        },
        case(
            "DELETE /v1/tenants/{id}",
            "DELETE",
            "/v1/tenants/tenant?force=true",
            None,
            ADMIN,
        ),
        case(
            "PUT /v1/tenants/{id}/members/{userId}",
            "PUT",
            "/v1/tenants/tenant/members/newbie",
            Some(json!({"role": "viewer"})),
            [201, 201, 403, 403, 201, 404, 404, 404, 403],
        ),
        case(
            "DELETE /v1/tenants/{id}/members/{userId}",
            "DELETE",
            "/v1/tenants/tenant/members/t-viewer",
            None,
            [204, 204, 403, 403, 204, 404, 404, 404, 403],
        ),
        // A child of the tenant needs the admin role on it; a parent the caller cannot see is no tenant (400).
        case(
            "POST /v1/tenants",
            "POST",
            "/v1/tenants",
            Some(json!({"name": "New", "parentId": "tenant"})),
            [201, 201, 403, 403, 201, 400, 400, 400, 403],
        ),
        case(
            "GET /v1/subtenants",
            "GET",
            "/v1/subtenants",
            None,
            [200, 200, 200, 200, 200, 200, 200, 200, 403],
        ),
        case(
            "GET /v1/events",
            "GET",
            "/v1/events",
            None,
            [200, 200, 200, 200, 200, 200, 200, 200, 403],
        ),
        case(
            "GET /v1/tenants/{id}/subtenants",
            "GET",
            "/v1/tenants/tenant/subtenants",
            None,
            READ,
        ),
        case(
            "POST /v1/tenants/{id}/subtenants",
            "POST",
            "/v1/tenants/tenant/subtenants",
            Some(json!({"name": "Crew"})),
            [201, 201, 201, 403, 201, 404, 404, 404, 403],
        ),
        case(
            "GET /v1/tenants/{id}/subtenants/{subtenantId}",
            "GET",
            "/v1/tenants/tenant/subtenants/team",
            None,
            READ,
        ),
        case(
            "PUT /v1/tenants/{id}/subtenants/{subtenantId}",
            "PUT",
            "/v1/tenants/tenant/subtenants/team",
            Some(json!({"name": "Team", "description": "d"})),
            WRITE,
        ),
        case(
            "PATCH /v1/tenants/{id}/subtenants/{subtenantId}",
            "PATCH",
            "/v1/tenants/tenant/subtenants/team",
            Some(json!({"description": "d"})),
            WRITE,
        ),
        case(
            "DELETE /v1/tenants/{id}/subtenants/{subtenantId}",
            "DELETE",
            "/v1/tenants/tenant/subtenants/team",
            None,
            [204, 204, 403, 403, 204, 404, 404, 404, 403],
        ),
        case(
            "GET /v1/tenants/{id}/identity-providers",
            "GET",
            "/v1/tenants/tenant/identity-providers",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/identity-providers/{ipId}",
            "GET",
            "/v1/tenants/tenant/identity-providers/okta",
            None,
            READ,
        ),
        case(
            "PUT /v1/tenants/{id}/identity-providers/{ipId}",
            "PUT",
            "/v1/tenants/tenant/identity-providers/okta",
            Some(json!({"type": "oidc", "issuer": "https://tenant.okta.example", "clientId": "c2"})),
            ADMIN,
        ),
        case(
            "DELETE /v1/tenants/{id}/identity-providers/{ipId}",
            "DELETE",
            "/v1/tenants/tenant/identity-providers/okta",
            None,
            [204, 204, 403, 403, 204, 404, 404, 404, 403],
        ),
        case(
            "GET /v1/tenants/{id}/identity-providers/{ipId}/groups",
            "GET",
            "/v1/tenants/tenant/identity-providers/okta/groups",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}",
            "GET",
            "/v1/tenants/tenant/identity-providers/okta/groups/admins",
            None,
            READ,
        ),
        case(
            "PUT /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}/{to}",
            "PUT",
            "/v1/tenants/tenant/identity-providers/okta/groups/admins/group:platform-admins",
            None,
            ADMIN,
        ),
        case(
            "DELETE /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}",
            "DELETE",
            "/v1/tenants/tenant/identity-providers/okta/groups/admins",
            None,
            [204, 204, 403, 403, 204, 404, 404, 404, 403],
        ),
        case(
            "GET /v1/identity-providers/by-domain/{domain}",
            "GET",
            "/v1/identity-providers/by-domain/tenant.example",
            None,
            READ,
        ),
        case(
            "POST /v1/tenants/{id}/deployments",
            "POST",
            "/v1/tenants/tenant/deployments",
            Some(json!({"rating": {"currency": "EUR"}})),
            [201, 201, 201, 403, 201, 404, 404, 404, 403],
        ),
        case(
            "GET /v1/tenants/{id}/deployments",
            "GET",
            "/v1/tenants/tenant/deployments",
            None,
            READ,
        ),
        case(
            "GET /v1/tenants/{id}/deployments/{version}",
            "GET",
            "/v1/tenants/tenant/deployments/1",
            None,
            READ,
        ),
        // The clone goes beside its source, under `parent`: admin there is needed.
        case(
            "POST /v1/tenants/{id}/clone",
            "POST",
            "/v1/tenants/tenant/clone",
            Some(json!({"environment": "test", "name": "Tenant test copy"})),
            [202, 403, 403, 403, 202, 404, 404, 404, 403],
        ),
        // A clone under its source: admin on the source (or above) is needed.
        case(
            "POST /v1/tenants/{id}/clone",
            "POST",
            "/v1/tenants/tenant/clone",
            Some(json!({"environment": "test", "name": "Tenant test copy", "parentId": "tenant"})),
            [202, 202, 403, 403, 202, 404, 404, 404, 403],
        ),
        // At the top: a platform admin.
        case(
            "POST /v1/tenants/{id}/clone",
            "POST",
            "/v1/tenants/tenant/clone",
            Some(json!({"environment": "test", "name": "Tenant test copy", "parentId": null})),
            [202, 403, 403, 403, 403, 404, 404, 404, 403],
        ),
        // Seen through the source (`tenant`) or the new tenant (under `parent`).
        case("GET /v1/jobs/{jobId}", "GET", "/v1/jobs/{job}", None, READ),
        // The document needs no token at all.
        case("GET /v1/openapi.json", "GET", "/v1/openapi.json", None, [200; 9]),
    ]
}

/// The matrix's deployments: `tenant` has version 1 and a queued clone
/// (beside it, under `parent`); returns the clone's job id.
async fn deployments_world(api: &TestApi) -> String {
    let deployed = api
        .post("/v1/tenants/tenant/deployments", &json!({"products": ["auto"]}))
        .await;
    assert_eq!(deployed.status, 201, "{}", String::from_utf8_lossy(&deployed.body));
    let clone = api
        .post(
            "/v1/tenants/tenant/clone",
            &json!({"environment": "production", "name": "Tenant copy"}),
        )
        .await;
    assert_eq!(clone.status, 202, "{}", String::from_utf8_lossy(&clone.body));
    clone.json()["jobId"].as_str().unwrap().to_owned()
}

async fn call(api: &TestApi, kind: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let auth = format!("Bearer {}", token(kind));
    let headers = [("authorization", auth.as_str())];
    match body {
        Some(body) => api.send_json(method, path, body, &headers).await,
        None => api.call(method, path, None, &headers).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_every_kind_of_caller_exactly() {
    let cases = cases();
    let declared: BTreeSet<&str> = dev_gateway::routes::all().map(|(r, _)| r).collect();
    let covered: BTreeSet<&str> = cases.iter().map(|c| c.route).collect();
    assert_eq!(
        covered, declared,
        "every route of template.yaml is in the matrix, and only those"
    );

    // A refused request changes nothing, and a read changes nothing: those
    // cells share one world per route (and prove it by the statuses of the
    // cells after them). Each request that succeeds in changing something
    // gets a world of its own.
    let groups = cases.iter().flat_map(|case| {
        let mutating = case.method != "GET";
        let (alone, shared): (Vec<usize>, Vec<usize>) =
            (0..KINDS.len()).partition(|k| mutating && case.statuses[*k] < 400);
        std::iter::once((case, shared)).chain(alone.into_iter().map(move |k| (case, vec![k])))
    });
    // One world, built through the API once and restored into each group's
    // table.
    let (seed, job) = {
        let api = spawn_app().await;
        world(&api).await;
        let job = deployments_world(&api).await;
        (api.snapshot().await, job)
    };
    let (seed, job) = (&seed, job.as_str());
    let failures: Vec<String> = futures_util::stream::iter(groups)
        .map(|(case, kinds)| async move {
            let api = spawn_app().await;
            api.restore(seed).await;
            if let Some(setup) = case.setup {
                assert_eq!(api.call("POST", setup, None, &[]).await.status, 200);
            }
            let mut failures = Vec::new();
            for k in kinds {
                let kind = KINDS[k];
                let path = case.path.replace("{job}", job);
                let reply = call(&api, kind, case.method, &path, case.body.as_ref()).await;
                let expected = case.statuses[k];
                if reply.status >= 400 && reply.status != 401 {
                    reply.problem(reply.status);
                }
                if reply.status != expected {
                    let body = String::from_utf8_lossy(&reply.body);
                    failures.push(format!(
                        "{} as {kind}: {} (expected {expected}): {body}",
                        case.route, reply.status
                    ));
                }
            }
            failures
        })
        .buffer_unordered(4)
        .flat_map(futures_util::stream::iter)
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {} cells differ:\n{}",
        failures.len(),
        cases.len() * KINDS.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_missing_permission_is_named_and_a_hidden_tenant_is_404() {
    let api = spawn_app().await;
    world(&api).await;
    let reader = format!("Bearer {}", token_for("t-admin", &[], "tenants:read"));
    let reply = api
        .send_json(
            "PATCH",
            "/v1/tenants/tenant",
            &json!({"description": "x"}),
            &[("authorization", &reader)],
        )
        .await;
    assert!(reply.problem(403)["detail"].as_str().unwrap().contains("tenants:write"));
    let reply = call(
        &api,
        "t-viewer",
        "PATCH",
        "/v1/tenants/tenant",
        Some(&json!({"description": "x"})),
    )
    .await;
    assert!(reply.problem(403)["detail"].as_str().unwrap().contains("viewer"));
    // Not found and not visible look the same.
    let hidden = call(&api, "s-admin", "GET", "/v1/tenants/tenant", None)
        .await
        .problem(404);
    let missing = call(&api, "s-admin", "GET", "/v1/tenants/nothing", None)
        .await
        .problem(404);
    assert_eq!(hidden["title"], missing["title"]);
    // group:* grants the group.
    let wildcard = format!("Bearer {}", token_for("t-operator", &[], "tenants:*"));
    let ok = api
        .send_json(
            "PATCH",
            "/v1/tenants/tenant",
            &json!({"description": "x"}),
            &[("authorization", &wildcard)],
        )
        .await;
    assert_eq!(ok.status, 200);
}

async fn list_as(api: &TestApi, kind: &str, query: &str) -> Vec<String> {
    let reply = call(api, kind, "GET", &format!("/v1/tenants?{query}"), None).await;
    assert_eq!(
        reply.status,
        200,
        "{kind} {query}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    names(&reply.json())
}

#[tokio::test]
async fn lists_show_only_visible_tenants_through_every_filter() {
    let api = spawn_app().await;
    world(&api).await;
    let expectations: &[(&str, &str, &[&str])] = &[
        ("platform", "", &["Child", "Other", "Parent", "Sibling", "Tenant"]),
        ("p-admin", "", &["Child", "Parent", "Sibling", "Tenant"]),
        ("t-viewer", "", &["Child", "Tenant"]),
        ("c-admin", "", &["Child"]),
        ("s-admin", "", &["Sibling"]),
        ("nobody", "", &[]),
        ("s-admin", "parentId=parent", &["Sibling"]),
        ("s-admin", "parentId=tenant", &[]),
        ("s-admin", "tags=t", &["Sibling"]),
        ("s-admin", "resellerId=r", &["Sibling"]),
        ("s-admin", "externalId=1:T", &[]),
        ("s-admin", "name=ten", &[]),
        ("s-admin", "sort=createdAt%20desc", &["Sibling"]),
        ("t-viewer", "externalId=1:T", &["Tenant"]),
        ("t-viewer", "sort=name%20desc&limit=1", &["Tenant"]),
        ("p-admin", "tags=t&resellerId=r", &["Sibling", "Tenant"]),
    ];
    for (kind, query, expected) in expectations {
        assert_eq!(list_as(&api, kind, query).await, *expected, "{kind} {query}");
    }
    for (kind, codes) in [("t-viewer", vec!["team"]), ("s-admin", vec![])] {
        let page = call(&api, kind, "GET", "/v1/subtenants", None).await.json();
        let seen: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["code"].as_str().unwrap())
            .collect();
        assert_eq!(seen, codes, "{kind}: only the subtenants of tenants it sees");
    }
    call(&api, "s-admin", "GET", "/v1/subtenants?tenantId=tenant", None)
        .await
        .problem(404);
    let total = call(&api, "s-admin", "GET", "/v1/tenants?includeTotal=true&tags=t", None)
        .await
        .json();
    assert_eq!(total["total"], 1, "totals count visible tenants only");
    let children = call(&api, "c-admin", "GET", "/v1/tenants/tenant/children", None).await;
    children.problem(404);
    let ancestors = call(&api, "t-viewer", "GET", "/v1/tenants/child/ancestors", None)
        .await
        .json();
    assert_eq!(
        names(&ancestors),
        ["Tenant"],
        "ancestors above the caller's membership are hidden"
    );
    let ancestors = call(&api, "p-admin", "GET", "/v1/tenants/child/ancestors", None)
        .await
        .json();
    assert_eq!(names(&ancestors), ["Parent", "Tenant"]);
}

/// An inactive or retired tenant cuts its subtree off from the members below
/// it; its admins (and the members above it) still see it all (issue 17).
#[tokio::test]
async fn an_inactive_or_retired_ancestor_hides_its_subtree_from_the_members_below_it() {
    let api = spawn_app().await;
    world(&api).await;
    api.patch("/v1/tenants/parent", &json!({"status": "inactive"}), &[])
        .await;
    call(&api, "t-admin", "GET", "/v1/tenants/tenant", None)
        .await
        .problem(404);
    assert_eq!(
        call(&api, "p-admin", "GET", "/v1/tenants/tenant", None).await.status,
        200,
        "its admin still sees its subtree"
    );
    assert_eq!(
        call(&api, "p-admin", "GET", "/v1/tenants/parent", None).await.status,
        200,
        "the inactive tenant itself stays visible"
    );
    assert_eq!(
        list_as(&api, "p-admin", "").await,
        ["Child", "Parent", "Sibling", "Tenant"],
        "lists agree"
    );
    assert_eq!(list_as(&api, "t-admin", "").await, Vec::<String>::new());
    assert_eq!(list_as(&api, "p-admin", "status=inactive").await, ["Parent"]);
    assert_eq!(
        call(&api, "platform", "GET", "/v1/tenants/tenant", None).await.status,
        200
    );
    api.patch("/v1/tenants/parent", &json!({"status": "active"}), &[]).await;
    api.call("POST", "/v1/tenants/tenant/retire", None, &[]).await;
    call(&api, "c-admin", "GET", "/v1/tenants/child", None)
        .await
        .problem(404);
    assert_eq!(
        call(&api, "t-admin", "GET", "/v1/tenants/child", None).await.status,
        200,
        "the retired tenant's admin still sees below it"
    );
    assert_eq!(list_as(&api, "t-admin", "status=retired").await, ["Tenant"]);
}

#[tokio::test]
async fn my_tenants_list_the_callers_memberships_with_its_role() {
    let api = spawn_app().await;
    world(&api).await;
    api.send_json(
        "PUT",
        "/v1/tenants/child/members/t-viewer",
        &json!({"role": "admin"}),
        &[],
    )
    .await;
    let mine = call(&api, "t-viewer", "GET", "/v1/tenants/mine", None).await;
    assert_eq!(mine.status, 200, "{}", String::from_utf8_lossy(&mine.body));
    let mine = mine.json();
    let roles: BTreeMap<&str, &str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("child", "admin"), ("tenant", "viewer")].into());
    assert_eq!(mine["items"][0]["name"], "Child", "items are whole tenants");
    let creator = api.get("/v1/tenants/mine").await.json();
    assert_eq!(
        names(&creator),
        ["Other", "Parent"],
        "the creator of a top-level tenant is its admin member"
    );
    assert_eq!(creator["items"][0]["role"], "admin");
    let page = call(&api, "t-viewer", "GET", "/v1/tenants/mine?limit=1", None)
        .await
        .json();
    let cursor = page["nextCursor"].as_str().unwrap();
    let next = call(
        &api,
        "t-viewer",
        "GET",
        &format!("/v1/tenants/mine?limit=1&cursor={cursor}"),
        None,
    )
    .await
    .json();
    assert_eq!(
        (next["items"][0]["id"].as_str(), next["nextCursor"].is_null()),
        (Some("tenant"), true)
    );
    call(
        &api,
        "c-admin",
        "GET",
        &format!("/v1/tenants/mine?cursor={cursor}"),
        None,
    )
    .await
    .problem(400);
}

#[tokio::test]
async fn non_admin_lists_page_without_short_pages_or_gaps() {
    let api = spawn_app().await;
    world(&api).await;
    for i in 0..12 {
        api.create_tenant(
            json!({"name": format!("Deep {i:02}"), "parentId": if i % 2 == 0 { "child" } else { "sibling" }}),
        )
        .await;
    }
    api.send_json(
        "PUT",
        "/v1/tenants/sibling/members/t-viewer",
        &json!({"role": "viewer"}),
        &[],
    )
    .await;
    let auth = format!("Bearer {}", token("t-viewer"));
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut sizes = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/tenants?limit=4&includeTotal=true&cursor={c}"),
            None => "/v1/tenants?limit=4&includeTotal=true".to_owned(),
        };
        let page = api.call("GET", &path, None, &[("authorization", &auth)]).await.json();
        assert_eq!(page["total"], 15, "child, tenant, sibling and their 12 children");
        sizes.push(page["count"].as_u64().unwrap());
        seen.extend(names(&page));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(sizes, [4, 4, 4, 3], "full pages until the last");
    let mut sorted = seen.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 15);
}

#[tokio::test]
async fn moving_needs_admin_here_and_a_say_over_the_new_parent() {
    let api = spawn_app().await;
    world(&api).await;
    let reply = call(
        &api,
        "t-operator",
        "PATCH",
        "/v1/tenants/child",
        Some(&json!({"parentId": "parent"})),
    )
    .await;
    assert!(reply.problem(403)["detail"].as_str().unwrap().contains("admin"));
    call(
        &api,
        "t-admin",
        "PATCH",
        "/v1/tenants/child",
        Some(&json!({"parentId": "sibling"})),
    )
    .await
    .problem(400);
    call(
        &api,
        "t-admin",
        "PATCH",
        "/v1/tenants/child",
        Some(&json!({"parentId": null})),
    )
    .await
    .problem(403);
    let moved = call(
        &api,
        "p-admin",
        "PATCH",
        "/v1/tenants/child",
        Some(&json!({"parentId": "sibling"})),
    )
    .await;
    assert_eq!(moved.status, 200);
    call(&api, "t-admin", "GET", "/v1/tenants/child", None)
        .await
        .problem(404);
    assert_eq!(
        call(&api, "s-admin", "GET", "/v1/tenants/child", None).await.status,
        200
    );
}

#[tokio::test]
async fn what_the_visibility_check_costs() {
    let api = spawn_app().await;
    world(&api).await;
    let mut rows = Vec::new();
    for (kind, path) in [
        ("platform", "/v1/tenants/tenant"),
        ("t-viewer", "/v1/tenants/tenant"),
        ("platform", "/v1/tenants?limit=25"),
        ("p-admin", "/v1/tenants?limit=25"),
        ("t-viewer", "/v1/tenants/mine"),
    ] {
        api.take_requests();
        assert_eq!(call(&api, kind, "GET", path, None).await.status, 200);
        rows.push((kind, path, api.take_requests()));
    }
    for (kind, path, requests) in &rows {
        println!("| {kind} | GET {path} | {requests:?} |");
    }
    let get = |op: &str, n: u64| (op.to_owned(), n);
    assert_eq!(
        rows[0].2,
        [get("GetItem", 1)].into(),
        "a platform admin's read is one GetItem"
    );
    assert_eq!(
        rows[1].2,
        [get("BatchGetItem", 1), get("GetItem", 1)].into(),
        "a member's read adds one BatchGetItem"
    );
    assert_eq!(rows[2].2, [get("Query", 1)].into());
    assert_eq!(
        rows[3].2,
        [get("BatchGetItem", 2), get("Query", 2)].into(),
        "memberships, roots, subtree facets, tenants (no ancestor above a top-level root to check)"
    );
}
