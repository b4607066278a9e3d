//! The subtenants function: codes, lists, updates, deletes, bad input.

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApi};

const BASE: &str = "/v1/tenants/acme/subtenants";

async fn with_tenant() -> TestApi {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme Corp", "resellerId": "r1"}))
        .await;
    api
}

async fn create(api: &TestApi, body: Value) -> Value {
    let reply = api.post(BASE, &body).await;
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

#[tokio::test]
async fn create_answers_201_with_a_code_and_the_tenants_name() {
    let api = with_tenant().await;
    let reply = api
        .post(
            BASE,
            &json!({"name": "Sales EMEA", "description": "d", "resellerId": "r1"}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let sub = reply.json();
    let id = sub["id"].as_str().unwrap();
    assert_eq!(reply.header("location"), Some(format!("{BASE}/{id}").as_str()));
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(
        (
            sub["code"].as_str(),
            sub["tenantId"].as_str(),
            sub["tenantName"].as_str()
        ),
        (Some("sales-emea"), Some("acme"), Some("Acme Corp"))
    );
    // By id and by code; the tenant counts it.
    assert_eq!(api.get(&format!("{BASE}/{id}")).await.json(), sub);
    assert_eq!(api.get(&format!("{BASE}/sales-emea")).await.json(), sub);
    assert_eq!(api.get("/v1/tenants/acme").await.json()["subtenantCount"], 1);
    let counts = api.entity_counts().await;
    assert_eq!((counts["subtenant"], counts["subtenantCode"]), (1, 1));
}

#[tokio::test]
async fn derived_codes_take_the_smallest_free_suffix_and_given_codes_clash() {
    let api = with_tenant().await;
    let code = |v: Value| v["code"].as_str().unwrap().to_owned();
    assert_eq!(code(create(&api, json!({"name": "Sales"})).await), "sales");
    assert_eq!(code(create(&api, json!({"name": "SALES"})).await), "sales-2");
    assert_eq!(
        code(create(&api, json!({"name": "sales", "code": "sales-5"})).await),
        "sales-5"
    );
    assert_eq!(code(create(&api, json!({"name": "Sales!"})).await), "sales-3");
    assert_eq!(code(create(&api, json!({"name": "Sales"})).await), "sales-4");
    assert_eq!(code(create(&api, json!({"name": "Sales"})).await), "sales-6");
    assert_eq!(code(create(&api, json!({"name": "Salesforce"})).await), "salesforce");
    let clash = api.post(BASE, &json!({"name": "Other", "code": "sales-2"})).await;
    assert!(clash.problem(409)["detail"].as_str().unwrap().contains("sales-2"));
    // Codes are per tenant.
    api.create_tenant(json!({"tenantId": "globex", "name": "Globex"})).await;
    let other = api
        .post("/v1/tenants/globex/subtenants", &json!({"name": "Sales"}))
        .await;
    assert_eq!(other.json()["code"], "sales");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_of_one_code_make_one_subtenant() {
    let api = with_tenant().await;
    // A client told 503 `contended` (on a machine loaded by the whole suite,
    // twenty writers of one tenant can outlast the server's 4 s of retries)
    // sends again after `Retry-After`, as told; what it finally hears is the
    // truth: one 201, and `code_taken` for every other.
    let replies = join_all((0..20).map(|i| {
        let api = &api;
        async move {
            let body = json!({"name": format!("Team {i}"), "code": "team"});
            api.send_json_retrying_contention("POST", BASE, &body).await
        }
    }))
    .await;
    let contended: u32 = replies.iter().map(|(_, c)| c).sum();
    println!("twenty creates of one code: {contended} answered contended first");
    let replies: Vec<crate::helpers::Reply> = replies.into_iter().map(|(r, _)| r).collect();
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    for reply in replies.iter().filter(|r| r.status == 409) {
        assert_eq!(reply.code(409), "code_taken", "the code the client chose is taken");
    }
    assert_eq!(api.entity_counts().await["subtenant"], 1);
    assert_eq!(api.get("/v1/tenants/acme").await.json()["subtenantCount"], 1);
    // Derived codes under contention: the server finds each a free code
    // itself, never a 409 "retry". Every create lands (on DynamoDB, and
    // here when the machine is not loaded: 10 of 10 alone); on a machine
    // loaded by the whole suite, one whose 4 s of retries all lost says so
    // with 503 `contended` and `Retry-After`, and the retry it asks for lands.
    let replies = join_all((0..10).map(|_| {
        let api = &api;
        async move {
            api.send_json_retrying_contention("POST", BASE, &json!({"name": "Crew"}))
                .await
        }
    }))
    .await;
    let contended: u32 = replies.iter().map(|(_, c)| c).sum();
    let mut codes = Vec::new();
    for (reply, _) in &replies {
        assert_eq!(reply.status, 201, "no 409: {}", String::from_utf8_lossy(&reply.body));
        codes.push(reply.json()["code"].as_str().unwrap().to_owned());
    }
    println!("derived-code creates: {contended} answered contended first");
    codes.sort();
    let mut expected = vec!["crew".to_owned()];
    expected.extend((2..=10).map(|n| format!("crew-{n}")));
    expected.sort();
    assert_eq!(codes, expected, "distinct codes, the smallest free suffixes");
    assert_eq!(api.get("/v1/tenants/acme").await.json()["subtenantCount"], 11);
}

#[tokio::test]
async fn renaming_keeps_the_code_and_a_new_code_moves_the_guard() {
    let api = with_tenant().await;
    let sub = create(&api, json!({"name": "Sales", "description": "d"})).await;
    let id = sub["id"].as_str().unwrap();
    let renamed = api
        .patch(&format!("{BASE}/{id}"), &json!({"name": "Revenue"}), &[])
        .await
        .json();
    assert_eq!(
        (
            renamed["code"].as_str(),
            renamed["name"].as_str(),
            renamed["version"].as_u64()
        ),
        (Some("sales"), Some("Revenue"), Some(2))
    );
    let put = api
        .send_json(
            "PUT",
            &format!("{BASE}/sales"),
            &json!({"name": "Revenue", "code": "revenue"}),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(put.status, 200);
    let put = put.json();
    assert_eq!(
        (put["code"].as_str(), put.get("description")),
        (Some("revenue"), None),
        "PUT clears what it omits"
    );
    api.get(&format!("{BASE}/sales")).await.problem(404);
    assert_eq!(
        code_of(&create(&api, json!({"name": "Sales"})).await),
        "sales",
        "the old code is free again"
    );
    api.patch(&format!("{BASE}/revenue"), &json!({"code": "sales"}), &[])
        .await
        .problem(409);
    api.patch(
        &format!("{BASE}/revenue"),
        &json!({"name": "x"}),
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(412);
    assert_eq!(api.entity_counts().await["subtenantCode"], 2);
}

/// The `resellerId` of each subtenant of acme, by code.
async fn resellers(api: &TestApi) -> Vec<Option<String>> {
    let page = api.get(&format!("{BASE}?sortBy=code")).await.json();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["resellerId"].as_str().map(str::to_owned))
        .collect()
}

fn code_of(v: &Value) -> String {
    v["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn delete_removes_the_subtenant_and_its_code() {
    let api = with_tenant().await;
    create(&api, json!({"name": "Sales"})).await;
    api.delete(&format!("{BASE}/sales"), &[("if-match", "\"7\"")])
        .await
        .problem(412);
    assert_eq!(api.delete(&format!("{BASE}/sales"), &[]).await.status, 204);
    api.delete(&format!("{BASE}/sales"), &[]).await.problem(404);
    let counts = api.entity_counts().await;
    assert!(!counts.contains_key("subtenant") && !counts.contains_key("subtenantCode"));
    assert_eq!(api.get("/v1/tenants/acme").await.json()["subtenantCount"], 0);
}

#[tokio::test]
async fn a_tenant_with_subtenants_is_deleted_only_with_force() {
    let api = with_tenant().await;
    let a = create(&api, json!({"name": "A"})).await;
    let b = create(&api, json!({"name": "B"})).await;
    api.delete("/v1/tenants/acme?force=false&dryRun=false", &[])
        .await
        .problem(409);
    let refused = api.delete("/v1/tenants/acme", &[]).await;
    assert!(refused.problem(409)["detail"]
        .as_str()
        .unwrap()
        .contains("2 subtenant(s)"));
    let dry = api.delete("/v1/tenants/acme?dryRun=true", &[]).await.json();
    assert_eq!(dry["deletedSubtenantIds"], json!([a["id"], b["id"]]));
    assert_eq!(api.entity_counts().await["subtenant"], 2, "a dry run deletes nothing");
    let forced = api.delete("/v1/tenants/acme?force=true", &[]).await.json();
    assert_eq!(forced["deletedSubtenantIds"], json!([a["id"], b["id"]]));
    assert!(
        api.scan().await.is_empty(),
        "no orphan: {:?}",
        api.entity_counts().await
    );
}

#[tokio::test]
async fn bad_input_is_a_problem_listing_every_error() {
    let api = with_tenant().await;
    let reply = api
        .post(
            BASE,
            &json!({"name": "", "code": "has spaces", "colour": "red", "id": "x"}),
        )
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["id", "name", "code", "colour"]);
    api.post("/v1/tenants/nobody/subtenants", &json!({"name": "A"}))
        .await
        .problem(404);
    let uuid_code = api
        .post(
            BASE,
            &json!({"name": "A", "code": "0190a5d7-ac96-774b-bcce-b302099a8057"}),
        )
        .await;
    uuid_code.problem(400);
    api.get(&format!("{BASE}/Not_A_Code")).await.problem(400);
    api.get(&format!("{BASE}/0190a5d7-ac96-774b-bcce-b302099a8057"))
        .await
        .problem(404);
    api.get(&format!("{BASE}?sortBy=size&orderBy=up&limit=0"))
        .await
        .problem(400);
    api.get("/v1/subtenants?sortBy=name").await.problem(400);
    api.get(&format!("{BASE}?cursor=forged")).await.problem(400);
    api.call("POST", BASE, Some(("text/plain", b"name=A")), &[])
        .await
        .problem(415);
    create(&api, json!({"name": "A"})).await;
    api.patch(&format!("{BASE}/a"), &json!({"code": null, "tenantId": "x"}), &[])
        .await
        .problem(400);
    api.call("POST", "/v1/tenants/acme/retire", None, &[]).await;
    api.post(BASE, &json!({"name": "Late"})).await.problem(409);
    assert_eq!(
        api.entity_counts().await["subtenant"],
        1,
        "nothing written by refused requests"
    );
}

#[tokio::test]
async fn lists_page_in_each_order_with_totals_and_offsets() {
    let api = with_tenant().await;
    for (name, code) in [
        ("Charlie", "a3"),
        ("alpha", "c1"),
        ("Bravo", "b2"),
        ("Delta", "d4"),
        ("Echo", "e5"),
    ] {
        create(&api, json!({"name": name, "code": code})).await;
    }
    let codes = |v: &Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(code_of).collect() };
    let by_name = api.get(&format!("{BASE}?sortBy=name&includeTotal=true")).await.json();
    assert_eq!(
        (codes(&by_name), by_name["total"].as_u64()),
        (
            vec!["c1", "b2", "a3", "d4", "e5"]
                .into_iter()
                .map(String::from)
                .collect(),
            Some(5)
        )
    );
    assert_eq!(by_name["items"][0]["tenantName"], "Acme Corp");
    let by_code = api.get(&format!("{BASE}?sortBy=code&orderBy=desc")).await.json();
    assert_eq!(codes(&by_code), ["e5", "d4", "c1", "b2", "a3"]);
    let created = api.get(&format!("{BASE}?limit=2&offset=1")).await.json();
    assert_eq!(codes(&created), ["c1", "b2"]);
    let next = api
        .get(&format!(
            "{BASE}?limit=2&cursor={}",
            created["nextCursor"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(codes(&next), ["d4", "e5"]);
    let global = api.get("/v1/subtenants?tenantId=acme&sortBy=code&limit=3").await.json();
    assert_eq!(codes(&global), ["a3", "b2", "c1"]);
    let all = api.get("/v1/subtenants?orderBy=desc").await.json();
    assert_eq!(codes(&all), ["e5", "d4", "b2", "c1", "a3"]);
}

#[tokio::test]
async fn changing_the_tenants_reseller_reaches_its_subtenants() {
    let api = with_tenant().await;
    create(&api, json!({"name": "Follows", "resellerId": "r1"})).await;
    create(&api, json!({"name": "Own", "resellerId": "r2"})).await;
    create(&api, json!({"name": "None"})).await;

    let reply = api.patch("/v1/tenants/acme", &json!({"resellerId": "r9"}), &[]).await;
    assert_eq!(reply.header("tenancy-subtenants-updated"), Some("1"));
    assert_eq!(resellers(&api).await, [Some("r9".into()), None, Some("r2".into())]);

    let reply = api
        .patch(
            "/v1/tenants/acme?noResellerIdToGroups=true",
            &json!({"resellerId": "r8"}),
            &[],
        )
        .await;
    assert_eq!(reply.header("tenancy-subtenants-updated"), Some("0"));
    assert_eq!(resellers(&api).await, [Some("r9".into()), None, Some("r2".into())]);

    let reply = api
        .send_json(
            "PUT",
            "/v1/tenants/acme?forceResellerIdToGroups=true",
            &json!({"name": "Acme Corp", "resellerId": "r7"}),
            &[],
        )
        .await;
    assert_eq!(reply.header("tenancy-subtenants-updated"), Some("3"));
    assert_eq!(
        resellers(&api).await,
        [Some("r7".into()), Some("r7".into()), Some("r7".into())]
    );
    // Both flags: `no` wins (Netaxis: force "is ignored if
    // noResellerIdToGroups is present and true").
    let reply = api
        .patch(
            "/v1/tenants/acme?noResellerIdToGroups=true&forceResellerIdToGroups=true",
            &json!({"resellerId": "r6"}),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("tenancy-subtenants-updated"), Some("0"));
    assert_eq!(
        resellers(&api).await,
        [Some("r7".into()), Some("r7".into()), Some("r7".into())]
    );
}

/// Netaxis lists both flags among the PUT body's attributes: they work in
/// PUT and PATCH bodies as in the query, `no` wins over `force`, and they
/// are never stored.
#[tokio::test]
async fn the_reseller_flags_work_as_body_fields_and_are_never_stored() {
    let api = with_tenant().await;
    create(&api, json!({"name": "Follows", "resellerId": "r1"})).await;
    create(&api, json!({"name": "Own", "resellerId": "r2"})).await;

    let body = json!({"name": "Acme Corp", "resellerId": "r9", "forceResellerIdToGroups": true});
    let reply = api.send_json("PUT", "/v1/tenants/acme", &body, &[]).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("tenancy-subtenants-updated"), Some("2"));
    assert_eq!(resellers(&api).await, [Some("r9".into()), Some("r9".into())]);

    let body = json!({"resellerId": "r8", "noResellerIdToGroups": true, "forceResellerIdToGroups": true});
    let reply = api.patch("/v1/tenants/acme", &body, &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("tenancy-subtenants-updated"),
        Some("0"),
        "no wins over force"
    );
    assert_eq!(resellers(&api).await, [Some("r9".into()), Some("r9".into())]);
    // The query's `no` wins over the body's `force` too.
    let reply = api
        .patch(
            "/v1/tenants/acme?noResellerIdToGroups=true",
            &json!({"resellerId": "r7", "forceResellerIdToGroups": true}),
            &[],
        )
        .await;
    assert_eq!(reply.header("tenancy-subtenants-updated"), Some("0"));

    let tenant = api.get("/v1/tenants/acme").await.json();
    assert_eq!(tenant["resellerId"], "r7");
    for flag in ["noResellerIdToGroups", "forceResellerIdToGroups"] {
        assert!(tenant.get(flag).is_none(), "{flag} is not a tenant field");
        let stored = api.scan().await;
        assert!(!format!("{stored:?}").contains(flag), "{flag} is never stored");
    }

    let body = json!({"name": "", "noResellerIdToGroups": "yes"});
    let reply = api.send_json("PUT", "/v1/tenants/acme", &body, &[]).await;
    assert_eq!(reply.code(400), "validation_failed");
    assert_eq!(
        reply.error_fields(),
        ["noResellerIdToGroups", "name"],
        "every invalid field"
    );
}

#[tokio::test]
async fn a_retired_tenants_subtenants_are_frozen_with_it() {
    let api = with_tenant().await;
    let team = create(&api, json!({"name": "Team"})).await;
    let path = format!("{BASE}/{}", team["id"].as_str().unwrap());
    assert_eq!(api.post("/v1/tenants/acme/retire", &json!({})).await.status, 200);
    let before = api.scan().await.len();
    api.patch(&path, &json!({"description": "d"}), &[]).await.problem(409);
    api.send_json("PUT", &path, &json!({"name": "Team 2"}), &[])
        .await
        .problem(409);
    api.delete(&path, &[]).await.problem(409);
    api.post(BASE, &json!({"name": "Other"})).await.problem(409);
    assert_eq!(api.scan().await.len(), before, "nothing changed");
    assert_eq!(api.get(&path).await.status, 200, "still readable");
    assert_eq!(api.post("/v1/tenants/acme/restore", &json!({})).await.status, 200);
    assert_eq!(api.patch(&path, &json!({"description": "d"}), &[]).await.status, 200);
}

#[tokio::test]
async fn a_null_code_is_refused_alike_by_put_and_patch_and_changes_nothing() {
    let api = with_tenant().await;
    let team = create(&api, json!({"name": "Team", "description": "d"})).await;
    let path = format!("{BASE}/{}", team["id"].as_str().unwrap());
    let before = api.scan().await;
    let put = api
        .send_json("PUT", &path, &json!({"name": "Team", "code": null}), &[])
        .await;
    let patch = api.patch(&path, &json!({"code": null}), &[]).await;
    for (method, reply) in [("PUT", &put), ("PATCH", &patch)] {
        let problem = reply.problem(400);
        assert_eq!(problem["code"], "validation_failed", "{method}");
        assert_eq!(problem["errors"], put.json()["errors"], "{method}: the same error");
        assert_eq!(reply.error_fields(), ["code"], "{method}");
    }
    // Every error at once: a removed name too, and an unknown field.
    let both = api
        .patch(&path, &json!({"code": null, "name": null, "colour": "red"}), &[])
        .await;
    both.problem(400);
    assert_eq!(both.error_fields(), ["name", "code", "colour"]);
    assert_eq!(api.scan().await, before, "nothing written");
    let kept = api.get(&path).await.json();
    assert_eq!((&kept["code"], &kept["version"]), (&json!("team"), &json!(1)));
    // A null that may remove its member still does.
    let cleared = api.patch(&path, &json!({"description": null}), &[]).await;
    assert_eq!(cleared.status, 200);
    assert!(cleared.json().get("description").is_none());
    assert_eq!(cleared.json()["code"], "team");
}
