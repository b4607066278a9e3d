//! Every multi-step operation, cut at every one of its DynamoDB calls: the
//! fault-injecting layer (`helpers::Faults`) fails the N-th call, for each N,
//! once before it is sent and once after DynamoDB carried it out with the
//! answer lost. Each time the client must get a success or an honest 503;
//! after the client retries a 503 and the scheduled clean-up runs, the
//! outcome is the one a fault-free run has, no unfinished work is left, and
//! the table's invariants hold (checked as each test app is dropped).

use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use shared::domain::Timestamp;
use shared::service::{cleanup, pending};

use crate::helpers::{spawn_app_with_faults, Faults, Strike, TestApi};

/// One operation: how to set it up, do it (its status), and what must hold
/// after it, however it was cut.
struct Scenario {
    name: &'static str,
    fixture: fn(&TestApi) -> BoxFuture<'_, ()>,
    act: fn(&TestApi) -> BoxFuture<'_, u16>,
    expect: fn(&TestApi) -> BoxFuture<'_, ()>,
    /// What a 503 promises (for a single change: that it was not made).
    after_503: fn(&TestApi) -> BoxFuture<'_, ()>,
}

fn nothing(_: &TestApi) -> BoxFuture<'_, ()> {
    Box::pin(async {})
}

/// What the scheduled clean-up does first: finish interrupted work.
async fn scheduled_cleanup(api: &TestApi) {
    pending::complete_all(&api.app().store).await.unwrap();
}

async fn pending_items(api: &TestApi) -> usize {
    api.entity_counts().await.get("pending").copied().unwrap_or(0)
}

async fn every_fault(scenario: Scenario) {
    let name = scenario.name;
    let faults = Faults::default();
    let api = spawn_app_with_faults(&faults).await;
    (scenario.fixture)(&api).await;
    // Each cut below starts from this state, restored rather than rebuilt.
    let fixture = api.snapshot().await;
    faults.reset();
    let status = (scenario.act)(&api).await;
    assert!((200..300).contains(&status), "{name} without a fault: {status}");
    let calls = faults.calls();
    (scenario.expect)(&api).await;
    drop(api);
    println!("{name}: {calls} DynamoDB calls, each cut before sending and after carrying out");
    let report = |unavailable: usize| {
        println!(
            "{name}: {} cuts answered 2xx, {unavailable} answered 503 and were retried",
            2 * calls as usize - unavailable
        )
    };
    let mut unavailable = 0;
    for strike in [Strike::BeforeSending, Strike::AnswerLost] {
        for call in 1..=calls {
            let faults = Faults::default();
            let api = spawn_app_with_faults(&faults).await;
            api.restore(&fixture).await;
            faults.arm(call, strike);
            let status = (scenario.act)(&api).await;
            assert!(faults.struck(), "{name}: call {call} was never made");
            assert!(
                (200..300).contains(&status) || status == 503,
                "{name}, call {call} {strike:?}: answered {status}"
            );
            faults.reset();
            if status == 503 {
                unavailable += 1;
                (scenario.after_503)(&api).await;
                let again = (scenario.act)(&api).await;
                assert!(
                    again < 500,
                    "{name}, call {call} {strike:?}: the retry answered {again}"
                );
            }
            scheduled_cleanup(&api).await;
            (scenario.expect)(&api).await;
            assert_eq!(
                pending_items(&api).await,
                0,
                "{name}, call {call} {strike:?}: work left"
            );
        }
    }
    report(unavailable);
}

async fn tenant(api: &TestApi, id: &str) -> Value {
    let reply = api.get(&format!("/v1/tenants/{id}")).await;
    assert_eq!(reply.status, 200, "{id}: {}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

fn ids(values: &[&str]) -> Value {
    json!(values)
}

#[tokio::test]
async fn a_subtree_move_cut_anywhere_ends_moved_whole() {
    every_fault(Scenario {
        name: "subtree move",
        fixture: |api| {
            Box::pin(async move {
                api.create_tenant(json!({"tenantId": "root", "name": "Root"})).await;
                api.create_tenant(json!({"tenantId": "mid", "name": "Mid", "parentId": "root", "tags": ["t"]}))
                    .await;
                api.create_tenant(json!({"tenantId": "leaf", "name": "Leaf", "parentId": "mid"}))
                    .await;
                api.create_tenant(json!({"tenantId": "leaf-two", "name": "Leaf Two", "parentId": "mid"}))
                    .await;
                api.create_tenant(json!({"tenantId": "other", "name": "Other"})).await;
            })
        },
        act: |api| {
            Box::pin(async move {
                api.patch("/v1/tenants/mid", &json!({"parentId": "other"}), &[])
                    .await
                    .status
            })
        },
        expect: |api| {
            Box::pin(async move {
                assert_eq!(tenant(api, "mid").await["path"], ids(&["other", "mid"]));
                assert_eq!(tenant(api, "leaf").await["path"], ids(&["other", "mid", "leaf"]));
                assert_eq!(
                    tenant(api, "leaf-two").await["path"],
                    ids(&["other", "mid", "leaf-two"])
                );
                assert_eq!(tenant(api, "root").await["childCount"], 0);
                assert_eq!(tenant(api, "other").await["childCount"], 1);
            })
        },
        after_503: |api| Box::pin(async move { assert_eq!(tenant(api, "mid").await["path"], ids(&["root", "mid"])) }),
    })
    .await;
}

#[tokio::test]
async fn a_reseller_change_cut_anywhere_reaches_every_subtenant() {
    every_fault(Scenario {
        name: "reseller propagation",
        fixture: |api| {
            Box::pin(async move {
                api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "resellerId": "r1"}))
                    .await;
                for name in ["Sales", "Support", "Legal"] {
                    let reply = api
                        .post(
                            "/v1/tenants/acme/subtenants",
                            &json!({"name": name, "resellerId": "r1"}),
                        )
                        .await;
                    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
                }
            })
        },
        act: |api| {
            Box::pin(async move {
                api.patch("/v1/tenants/acme", &json!({"resellerId": "r2"}), &[])
                    .await
                    .status
            })
        },
        expect: |api| {
            Box::pin(async move {
                assert_eq!(tenant(api, "acme").await["resellerId"], "r2");
                let page = api.get("/v1/tenants/acme/subtenants").await.json();
                let resellers: Vec<&Value> = page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| &s["resellerId"])
                    .collect();
                assert_eq!(resellers, [&json!("r2"); 3], "{page}");
            })
        },
        after_503: |api| Box::pin(async move { assert_eq!(tenant(api, "acme").await["resellerId"], "r1") }),
    })
    .await;
}

#[tokio::test]
async fn a_forced_delete_cut_anywhere_ends_with_everything_gone() {
    every_fault(Scenario {
        name: "forced delete",
        fixture: |api| {
            Box::pin(async move {
                api.create_tenant(json!({"tenantId": "root", "name": "Root", "tags": ["a", "b"]}))
                    .await;
                api.create_tenant(
                    json!({"tenantId": "kid", "name": "Kid", "parentId": "root", "externalIds": {"crm": "1"}}),
                )
                .await;
                api.create_tenant(json!({"tenantId": "other", "name": "Other"})).await;
                let sub = api.post("/v1/tenants/kid/subtenants", &json!({"name": "Sales"})).await;
                assert_eq!(sub.status, 201);
                let member = api
                    .send_json("PUT", "/v1/tenants/root/members/bob", &json!({"role": "viewer"}), &[])
                    .await;
                assert_eq!(member.status, 201);
                let deployed = api
                    .send_json("POST", "/v1/tenants/root/deployments", &json!({"theme": "dark"}), &[])
                    .await;
                assert_eq!(deployed.status, 201, "{}", String::from_utf8_lossy(&deployed.body));
            })
        },
        act: |api| {
            Box::pin(async move {
                let reply = api.delete("/v1/tenants/root?force=true", &[]).await;
                // A retry of a delete that went through finds nothing to delete.
                if reply.status == 404 {
                    200
                } else {
                    reply.status
                }
            })
        },
        expect: |api| {
            Box::pin(async move {
                for id in ["root", "kid"] {
                    api.get(&format!("/v1/tenants/{id}")).await.problem(404);
                }
                assert_eq!(api.keys().await, ["TENANT#other", "TENANTNAME#other"]);
            })
        },
        // Tenants go one at a time, leaves first: a retry deletes the rest.
        after_503: nothing,
    })
    .await;
}

#[tokio::test]
async fn a_purge_cut_anywhere_ends_with_only_the_tombstone() {
    every_fault(Scenario {
        name: "purge",
        fixture: |api| {
            Box::pin(async move {
                api.create_tenant(json!({"tenantId": "old", "name": "Old", "tags": ["a"], "externalIds": {"1": "x"}}))
                    .await;
                let sub = api.post("/v1/tenants/old/subtenants", &json!({"name": "Sales"})).await;
                assert_eq!(sub.status, 201);
                let member = api
                    .send_json("PUT", "/v1/tenants/old/members/bob", &json!({"role": "viewer"}), &[])
                    .await;
                assert_eq!(member.status, 201);
                let retired = api.post("/v1/tenants/old/retire", &json!({})).await;
                assert_eq!(retired.status, 200, "{}", String::from_utf8_lossy(&retired.body));
            })
        },
        act: |api| {
            Box::pin(async move {
                let run = cleanup::Run {
                    dry_run: false,
                    tenant_ids: None,
                    now: Timestamp::now().plus(time::Duration::days(40)),
                    retention_days: 30,
                    stop_at: Instant::now() + Duration::from_secs(30),
                };
                match cleanup::run(&api.app().store, &run).await {
                    // Purged now, or (a retry) found already purged.
                    Ok(summary) if summary.purged.len() == 1 || summary.candidates == 0 => 200,
                    // Cut short: the next scheduled run (the "retry") finishes it.
                    Ok(_) | Err(shared::error::Error::Unavailable(_)) => 503,
                    Err(e) => panic!("the clean-up failed: {e}"),
                }
            })
        },
        expect: |api| {
            Box::pin(async move {
                api.get("/v1/tenants/old").await.problem(410);
                assert_eq!(
                    api.entity_counts().await,
                    [("purgedName".to_owned(), 1), ("tombstone".to_owned(), 1)].into()
                );
            })
        },
        // Cut short: the next scheduled run purges the rest.
        after_503: nothing,
    })
    .await;
}

/// The status of `reply`, failing the test on a body that is not the
/// documented problem for a 4xx/5xx.
fn status_of(reply: &crate::helpers::Reply) -> u16 {
    if reply.status >= 400 {
        reply.problem(reply.status);
    }
    reply.status
}

async fn subtenants_of(api: &TestApi, tenant: &str) -> Vec<Value> {
    let page = api.get(&format!("/v1/tenants/{tenant}/subtenants")).await;
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
    page.json()["items"].as_array().unwrap().clone()
}

fn acme(api: &TestApi) -> BoxFuture<'_, ()> {
    Box::pin(async move {
        api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    })
}

fn acme_with_sales(api: &TestApi) -> BoxFuture<'_, ()> {
    Box::pin(async move {
        acme(api).await;
        let sub = api.post("/v1/tenants/acme/subtenants", &json!({"name": "Sales"})).await;
        assert_eq!(sub.status, 201);
    })
}

/// A create whose answer is lost must not leave the client to create a
/// second subtenant (no `Idempotency-Key`: a retry of a 503 is a new create).
#[tokio::test]
async fn a_subtenant_create_cut_anywhere_makes_exactly_one() {
    every_fault(Scenario {
        name: "subtenant create",
        fixture: acme,
        act: |api| {
            Box::pin(
                async move { status_of(&api.post("/v1/tenants/acme/subtenants", &json!({"name": "Sales"})).await) },
            )
        },
        expect: |api| {
            Box::pin(async move {
                let subs = subtenants_of(api, "acme").await;
                let codes: Vec<&Value> = subs.iter().map(|s| &s["code"]).collect();
                assert_eq!(codes, [&json!("sales")], "one subtenant: {subs:?}");
                assert_eq!(tenant(api, "acme").await["subtenantCount"], 1);
            })
        },
        after_503: |api| Box::pin(async move { assert!(subtenants_of(api, "acme").await.is_empty()) }),
    })
    .await;
}

#[tokio::test]
async fn a_subtenant_update_cut_anywhere_is_made_once() {
    every_fault(Scenario {
        name: "subtenant update",
        fixture: acme_with_sales,
        act: |api| {
            Box::pin(async move {
                let body = json!({"description": "EMEA", "code": "sales-emea"});
                status_of(&api.patch("/v1/tenants/acme/subtenants/sales", &body, &[]).await)
            })
        },
        expect: |api| {
            Box::pin(async move {
                let sub = api.get("/v1/tenants/acme/subtenants/sales-emea").await.json();
                assert_eq!((&sub["description"], &sub["version"]), (&json!("EMEA"), &json!(2)));
                api.get("/v1/tenants/acme/subtenants/sales").await.problem(404);
            })
        },
        after_503: |api| {
            Box::pin(async move {
                let sub = api.get("/v1/tenants/acme/subtenants/sales").await.json();
                assert_eq!(sub["version"], 1, "{sub}");
            })
        },
    })
    .await;
}

#[tokio::test]
async fn a_subtenant_delete_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "subtenant delete",
        fixture: acme_with_sales,
        act: |api| Box::pin(async move { status_of(&api.delete("/v1/tenants/acme/subtenants/sales", &[]).await) }),
        expect: |api| {
            Box::pin(async move {
                assert!(subtenants_of(api, "acme").await.is_empty());
                assert_eq!(tenant(api, "acme").await["subtenantCount"], 0);
                assert_eq!(api.entity_counts().await.get("subtenantCode"), None);
            })
        },
        after_503: |api| Box::pin(async move { assert_eq!(subtenants_of(api, "acme").await.len(), 1) }),
    })
    .await;
}

async fn member_status(api: &TestApi, user: &str) -> u16 {
    api.get(&format!("/v1/tenants/acme/members/{user}")).await.status
}

#[tokio::test]
async fn a_membership_put_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "member put",
        fixture: acme,
        act: |api| {
            Box::pin(async move {
                let body = json!({"role": "operator"});
                status_of(&api.send_json("PUT", "/v1/tenants/acme/members/bob", &body, &[]).await)
            })
        },
        expect: |api| {
            Box::pin(async move {
                let member = api.get("/v1/tenants/acme/members/bob").await.json();
                assert_eq!(member["role"], "operator");
            })
        },
        after_503: |api| Box::pin(async move { assert_eq!(member_status(api, "bob").await, 404) }),
    })
    .await;
}

#[tokio::test]
async fn a_membership_delete_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "member delete",
        fixture: |api| {
            Box::pin(async move {
                acme(api).await;
                let body = json!({"role": "viewer"});
                let put = api.send_json("PUT", "/v1/tenants/acme/members/bob", &body, &[]).await;
                assert_eq!(put.status, 201);
            })
        },
        act: |api| Box::pin(async move { status_of(&api.delete("/v1/tenants/acme/members/bob", &[]).await) }),
        expect: |api| Box::pin(async move { assert_eq!(member_status(api, "bob").await, 404) }),
        after_503: |api| Box::pin(async move { assert_eq!(member_status(api, "bob").await, 200) }),
    })
    .await;
}

const OKTA: &str = "/v1/tenants/acme/identity-providers/okta";

fn okta(client: &str, domain: &str) -> Value {
    json!({"type": "oidc", "issuer": "https://acme.okta.example/oauth2", "clientId": client, "domains": [domain]})
}

fn acme_with_okta(api: &TestApi) -> BoxFuture<'_, ()> {
    Box::pin(async move {
        acme(api).await;
        let put = api.send_json("PUT", OKTA, &okta("client-1", "acme.example"), &[]).await;
        assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
        let mapped = api
            .call("PUT", &format!("{OKTA}/groups/admins/group:ops"), None, &[])
            .await;
        assert_eq!(mapped.status, 201, "{}", String::from_utf8_lossy(&mapped.body));
    })
}

async fn owner_of(api: &TestApi, domain: &str) -> (u16, Value) {
    let reply = api.get(&format!("/v1/identity-providers/by-domain/{domain}")).await;
    let body = if reply.status == 200 { reply.json() } else { Value::Null };
    (reply.status, body)
}

#[tokio::test]
async fn a_new_identity_provider_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "identity provider create",
        fixture: acme,
        act: |api| {
            Box::pin(
                async move { status_of(&api.send_json("PUT", OKTA, &okta("client-1", "acme.example"), &[]).await) },
            )
        },
        expect: |api| {
            Box::pin(async move {
                assert_eq!(api.get(OKTA).await.json()["version"], 1);
                assert_eq!(tenant(api, "acme").await["identityProviderIds"], json!(["okta"]));
                assert_eq!(owner_of(api, "acme.example").await.0, 200);
            })
        },
        after_503: |api| {
            Box::pin(async move {
                api.get(OKTA).await.problem(404);
                assert_eq!(owner_of(api, "acme.example").await.0, 404);
            })
        },
    })
    .await;
}

#[tokio::test]
async fn an_identity_provider_replace_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "identity provider replace",
        fixture: acme_with_okta,
        act: |api| {
            Box::pin(async move { status_of(&api.send_json("PUT", OKTA, &okta("client-2", "acme.test"), &[]).await) })
        },
        expect: |api| {
            Box::pin(async move {
                let idp = api.get(OKTA).await.json();
                assert_eq!((&idp["clientId"], &idp["version"]), (&json!("client-2"), &json!(2)));
                assert_eq!(owner_of(api, "acme.test").await.1["identityProvider"]["id"], "okta");
                assert_eq!(owner_of(api, "acme.example").await.0, 404, "the old domain is released");
            })
        },
        after_503: |api| Box::pin(async move { assert_eq!(api.get(OKTA).await.json()["version"], 1) }),
    })
    .await;
}

#[tokio::test]
async fn an_identity_provider_delete_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "identity provider delete",
        fixture: acme_with_okta,
        act: |api| Box::pin(async move { status_of(&api.delete(OKTA, &[]).await) }),
        expect: |api| {
            Box::pin(async move {
                api.get(OKTA).await.problem(404);
                assert_eq!(tenant(api, "acme").await["identityProviderIds"], json!([]));
                assert_eq!(owner_of(api, "acme.example").await.0, 404);
                assert_eq!(api.entity_counts().await.get("groupMapping"), None);
            })
        },
        after_503: |api| Box::pin(async move { assert_eq!(api.get(OKTA).await.status, 200) }),
    })
    .await;
}

#[tokio::test]
async fn a_group_mapping_put_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "group mapping put",
        fixture: acme_with_okta,
        act: |api| {
            Box::pin(async move {
                status_of(
                    &api.call("PUT", &format!("{OKTA}/groups/sales/group:crm"), None, &[])
                        .await,
                )
            })
        },
        expect: |api| {
            Box::pin(async move {
                let mapping = api.get(&format!("{OKTA}/groups/sales")).await.json();
                assert_eq!(mapping["to"], "group:crm");
            })
        },
        after_503: |api| {
            Box::pin(async move {
                api.get(&format!("{OKTA}/groups/sales")).await.problem(404);
            })
        },
    })
    .await;
}

#[tokio::test]
async fn a_group_mapping_delete_cut_anywhere_answers_as_it_went() {
    every_fault(Scenario {
        name: "group mapping delete",
        fixture: acme_with_okta,
        act: |api| Box::pin(async move { status_of(&api.delete(&format!("{OKTA}/groups/admins"), &[]).await) }),
        expect: |api| {
            Box::pin(async move {
                api.get(&format!("{OKTA}/groups/admins")).await.problem(404);
            })
        },
        after_503: |api| {
            Box::pin(async move { assert_eq!(api.get(&format!("{OKTA}/groups/admins")).await.status, 200) })
        },
    })
    .await;
}
