//! The identity-providers function: configure, replace, delete; login
//! domains unique across tenants (also under concurrent claims); group
//! mappings with encoded ids; the tenant query by provider; the by-domain
//! lookup; and what deleting a tenant leaves (nothing).

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, token_for, Reply, TestApi, ADMIN_SCOPE};

const OKTA: &str = "/v1/tenants/acme/identity-providers/okta";

fn oidc(domains: &[&str]) -> Value {
    json!({"type": "oidc", "issuer": "https://acme.okta.example/oauth2", "clientId": "client-1", "domains": domains})
}

async fn put(api: &TestApi, path: &str, body: &Value) -> Reply {
    api.send_json("PUT", path, body, &[]).await
}

async fn with_tenants(ids: &[&str]) -> TestApi {
    let api = spawn_app().await;
    for id in ids {
        api.create_tenant(json!({"tenantId": id, "name": id})).await;
    }
    api
}

/// Tenants acme and globex, each with an `okta` provider claiming its own domain.
async fn acme_and_globex_with_okta() -> TestApi {
    let api = with_tenants(&["acme", "globex"]).await;
    status(&put(&api, OKTA, &oidc(&["acme.example"])).await, 201);
    let globex = put(
        &api,
        "/v1/tenants/globex/identity-providers/okta",
        &oidc(&["globex.example"]),
    )
    .await;
    status(&globex, 201);
    api
}

#[track_caller]
fn status(reply: &Reply, expected: u16) -> Value {
    assert_eq!(reply.status, expected, "{}", String::from_utf8_lossy(&reply.body));
    if reply.body.is_empty() {
        Value::Null
    } else {
        reply.json()
    }
}

#[tokio::test]
async fn put_creates_then_replaces_and_the_tenant_names_its_providers() {
    let api = with_tenants(&["acme"]).await;
    api.take_requests();
    let created = put(&api, OKTA, &oidc(&["acme.example"])).await;
    let create_requests = api.take_requests();
    let idp = status(&created, 201);
    assert_eq!(created.header("location"), Some(OKTA));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        (
            &idp["id"],
            &idp["tenantId"],
            &idp["type"],
            &idp["enabled"],
            &idp["domains"]
        ),
        (
            &json!("okta"),
            &json!("acme"),
            &json!("oidc"),
            &json!(true),
            &json!(["acme.example"])
        )
    );
    assert_eq!(status(&api.get(OKTA).await, 200), idp);

    let tenant = status(&api.get("/v1/tenants/acme").await, 200);
    assert_eq!(
        (&tenant["identityProviderIds"], &tenant["version"]),
        (&json!(["okta"]), &json!(2))
    );
    let events = status(&api.get("/v1/tenants/acme/events").await, 200);
    assert!(
        events.to_string().contains("identityProviderIds"),
        "the audit trail shows it: {events}"
    );

    // The same body again changes nothing; another one replaces it.
    let same = put(&api, OKTA, &oidc(&["acme.example"])).await;
    assert_eq!(status(&same, 200)["version"], 1);
    api.take_requests();
    let saml = json!({"type": "saml", "entityId": "urn:acme", "metadataUrl": "https://idp.acme.example/metadata", "enabled": false});
    let replaced = put(&api, OKTA, &saml).await;
    let replace_requests = api.take_requests();
    let replaced_body = status(&replaced, 200);
    assert_eq!(replaced.header("etag"), Some("\"2\""));
    assert_eq!(
        (
            &replaced_body["type"],
            &replaced_body["enabled"],
            &replaced_body["domains"],
            &replaced_body["createdAt"]
        ),
        (&json!("saml"), &json!(false), &json!([]), &idp["createdAt"])
    );
    assert!(
        replaced_body.get("issuer").is_none() && replaced_body.get("clientId").is_none(),
        "PUT replaces"
    );
    assert_eq!(
        status(&api.get("/v1/tenants/acme").await, 200)["version"],
        2,
        "a replace keeps the tenant as it was"
    );

    let list = status(&api.get("/v1/tenants/acme/identity-providers").await, 200);
    assert_eq!((&list["count"], &list["items"][0]["id"]), (&json!(1), &json!("okta")));

    println!("PUT (create) requests: {create_requests:?}");
    println!("PUT (replace) requests: {replace_requests:?}");
    // Create: read the tenant, its provider, one transaction. Replace: the same reads, one transaction.
    for requests in [&create_requests, &replace_requests] {
        assert_eq!(requests.get("TransactWriteItems"), Some(&1), "{requests:?}");
        assert!(requests.values().sum::<u64>() <= 3, "{requests:?}");
    }
}

#[tokio::test]
async fn bad_configurations_are_answered_with_every_error() {
    let api = with_tenants(&["acme"]).await;
    let body = json!({
        "type": "oidc",
        "issuer": "http://insecure.example",
        "domains": ["ok.example", "not a domain", "-bad-.example"],
        "enabled": "yes",
        "color": "blue",
    });
    let reply = put(&api, OKTA, &body).await;
    reply.problem(400);
    assert_eq!(
        reply.error_fields(),
        ["issuer", "enabled", "domains[1]", "domains[2]", "clientId", "color"]
    );

    let big = format!("<EntityDescriptor>{}</EntityDescriptor>", "x".repeat(100 * 1024));
    let reply = put(
        &api,
        OKTA,
        &json!({"type": "saml", "entityId": "urn:x", "metadataXml": big}),
    )
    .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["metadataXml"]);
    assert!(reply.json().to_string().contains("100 KiB"));

    let reply = put(
        &api,
        OKTA,
        &json!({"type": "saml", "metadataUrl": "ftp://x.example/m", "clientId": "c"}),
    )
    .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["metadataUrl", "entityId", "clientId"]);

    // Bad path segments are listed together too.
    let reply = put(&api, "/v1/tenants/Not%20An%20Id/identity-providers/-okta", &oidc(&[])).await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["id", "ipId"]);
    let reply = api.get("/v1/identity-providers/by-domain/not_a_domain").await;
    assert_eq!(reply.problem(400)["errors"][0]["field"], "domain");

    assert_eq!(
        api.entity_counts().await.get("identityProvider"),
        None,
        "nothing was written"
    );
    assert_eq!(status(&api.get("/v1/tenants/acme").await, 200)["version"], 1);
}

#[tokio::test]
async fn a_login_domain_belongs_to_one_provider_across_tenants() {
    let api = with_tenants(&["acme", "globex"]).await;
    status(
        &put(&api, OKTA, &oidc(&["acme.example", "sso.acme.example"])).await,
        201,
    );

    let globex = "/v1/tenants/globex/identity-providers/azure";
    let taken = put(&api, globex, &oidc(&["globex.example", "ACME.example"])).await;
    let problem = taken.problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("'acme.example'"),
        "{problem}"
    );
    assert_eq!(
        api.get(globex).await.status,
        404,
        "a refused claim writes nothing, not even the free domain"
    );
    let other_of_same_tenant = put(
        &api,
        "/v1/tenants/acme/identity-providers/azure",
        &oidc(&["acme.example"]),
    )
    .await;
    other_of_same_tenant.problem(409);

    // Released by a replace, it is free to claim.
    status(&put(&api, OKTA, &oidc(&["sso.acme.example"])).await, 200);
    status(
        &put(&api, globex, &oidc(&["globex.example", "acme.example"])).await,
        201,
    );
    let owner = status(&api.get("/v1/identity-providers/by-domain/Acme.Example").await, 200);
    assert_eq!(
        (
            &owner["domain"],
            &owner["tenantId"],
            &owner["tenantName"],
            &owner["identityProvider"]["id"]
        ),
        (
            &json!("acme.example"),
            &json!("globex"),
            &json!("globex"),
            &json!("azure")
        )
    );
    assert_eq!(api.entity_counts().await["domainClaim"], 3);
    api.get("/v1/identity-providers/by-domain/nobody.example")
        .await
        .problem(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_of_one_domain_let_exactly_one_win() {
    let ids: Vec<String> = (0..12).map(|i| format!("tenant-{i}")).collect();
    let api = with_tenants(&ids.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let replies = join_all(ids.iter().map(|id| {
        let api = &api;
        async move {
            let path = format!("/v1/tenants/{id}/identity-providers/sso");
            (
                id.clone(),
                put(api, &path, &oidc(&["contested.example", &format!("{id}.example")])).await,
            )
        }
    }))
    .await;
    let winners: Vec<&String> = replies
        .iter()
        .filter(|(_, r)| r.status == 201)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    for (_, reply) in replies.iter().filter(|(_, r)| r.status != 201) {
        reply.problem(409);
    }
    let owner = status(
        &api.get("/v1/identity-providers/by-domain/contested.example").await,
        200,
    );
    assert_eq!(owner["tenantId"], json!(winners[0]));
    let counts = api.entity_counts().await;
    assert_eq!(
        (counts["identityProvider"], counts["domainClaim"]),
        (1, 2),
        "the losers left nothing"
    );
}

#[tokio::test]
async fn group_mappings_are_added_replaced_paged_and_deleted_with_encoded_ids() {
    let api = with_tenants(&["acme"]).await;
    status(&put(&api, OKTA, &oidc(&[])).await, 201);
    let groups = format!("{OKTA}/groups");
    // A directory DN with `,` `=` and an encoded `/`, and a non-ASCII id with a space.
    let dn = "CN%3DAdmins%2COU%3DGroups%2FEU";
    let created = api
        .call("PUT", &format!("{groups}/{dn}/group:tenant-admins"), None, &[])
        .await;
    let mapping = status(&created, 201);
    assert_eq!(
        (&mapping["from"], &mapping["to"], &mapping["identityProviderId"]),
        (
            &json!("CN=Admins,OU=Groups/EU"),
            &json!("group:tenant-admins"),
            &json!("okta")
        )
    );
    let replaced = api
        .call("PUT", &format!("{groups}/{dn}/group:platform-admins"), None, &[])
        .await;
    assert_eq!(
        status(&replaced, 200)["to"],
        "group:platform-admins",
        "a second PUT of a group replaces its target"
    );
    let again = api
        .call("PUT", &format!("{groups}/{dn}/group:platform-admins"), None, &[])
        .await;
    status(&again, 200);
    assert_eq!(
        status(&api.get(&format!("{groups}/{dn}")).await, 200)["to"],
        "group:platform-admins"
    );
    let unicode = "gr%C3%BCppe%201";
    status(
        &api.call("PUT", &format!("{groups}/{unicode}/group:viewers"), None, &[])
            .await,
        201,
    );
    assert_eq!(
        status(&api.get(&format!("{groups}/{unicode}")).await, 200)["from"],
        "grüppe 1"
    );
    for i in 0..4 {
        status(
            &api.call("PUT", &format!("{groups}/team-{i}/group:operators"), None, &[])
                .await,
            201,
        );
    }

    // Six mappings, by group id, in pages of four.
    let first = status(&api.get(&format!("{groups}?limit=4")).await, 200);
    let cursor = first["nextCursor"].as_str().expect("a second page").to_owned();
    let second = status(&api.get(&format!("{groups}?limit=4&cursor={cursor}")).await, 200);
    assert!(second["nextCursor"].is_null());
    let froms: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().iter().map(|m| m["from"].clone()))
        .collect();
    assert_eq!(
        froms,
        json!([
            "CN=Admins,OU=Groups/EU",
            "grüppe 1",
            "team-0",
            "team-1",
            "team-2",
            "team-3"
        ])
        .as_array()
        .unwrap()
        .clone()
    );
    let other_provider = status(
        &put(&api, "/v1/tenants/acme/identity-providers/other", &oidc(&[])).await,
        201,
    );
    assert_eq!(other_provider["id"], "other");
    let forged = api
        .get(&format!(
            "/v1/tenants/acme/identity-providers/other/groups?cursor={cursor}"
        ))
        .await;
    forged.problem(400);

    assert_eq!(
        status(&api.delete(&format!("{groups}/{dn}"), &[]).await, 204),
        Value::Null
    );
    api.delete(&format!("{groups}/{dn}"), &[]).await.problem(404);
    api.get(&format!("{groups}/{dn}")).await.problem(404);
    // Bad ids: a control character, and over 256 bytes.
    let reply = api
        .call("PUT", &format!("{groups}/a%00b/{}", "x".repeat(257)), None, &[])
        .await;
    reply.problem(400);
    assert_eq!(reply.error_fields(), ["from", "to"]);
    api.call(
        "PUT",
        "/v1/tenants/acme/identity-providers/missing/groups/a/group:b",
        None,
        &[],
    )
    .await
    .problem(404);
    assert_eq!(api.entity_counts().await["groupMapping"], 5);
}

#[tokio::test]
async fn deleting_a_provider_removes_its_mappings_claims_and_query_hits() {
    let api = acme_and_globex_with_okta().await;
    for group in ["a", "b", "c"] {
        status(
            &api.call("PUT", &format!("{OKTA}/groups/{group}/group:x"), None, &[])
                .await,
            201,
        );
    }
    let ids = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    api.take_requests();
    let both = status(&api.get("/v1/tenants?identityProviderId=okta").await, 200);
    let query_requests = api.take_requests();
    assert_eq!(ids(both), ["acme", "globex"]);
    println!("GET /v1/tenants?identityProviderId= requests (platform admin): {query_requests:?}");
    assert_eq!(
        query_requests,
        [("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)].into(),
        "one Query on the facet index, one BatchGetItem for the page's tenants"
    );

    // A stale If-Match is refused; then the delete goes through.
    api.delete(OKTA, &[("if-match", "\"7\"")]).await.problem(412);
    assert_eq!(status(&api.delete(OKTA, &[]).await, 204), Value::Null);
    assert_eq!(
        ids(status(&api.get("/v1/tenants?identityProviderId=okta").await, 200)),
        ["globex"]
    );
    api.get(OKTA).await.problem(404);
    api.get(&format!("{OKTA}/groups")).await.problem(404);
    api.get("/v1/identity-providers/by-domain/acme.example")
        .await
        .problem(404);
    let acme = status(&api.get("/v1/tenants/acme").await, 200);
    assert_eq!(acme["identityProviderIds"], json!([]));
    let counts = api.entity_counts().await;
    assert_eq!(
        (counts["identityProvider"], counts["domainClaim"]),
        (1, 1),
        "globex's stay"
    );
    assert_eq!(
        counts.get("groupMapping"),
        None,
        "the mappings went with their provider"
    );
    assert_eq!(counts.get("pending"), None, "no work left behind");

    // The same id again starts empty.
    status(&put(&api, OKTA, &oidc(&["acme.example"])).await, 201);
    assert_eq!(
        status(&api.get(&format!("{OKTA}/groups")).await, 200)["items"],
        json!([])
    );
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_providers_and_frees_its_domains() {
    let api = with_tenants(&["acme", "globex"]).await;
    status(&put(&api, OKTA, &oidc(&["acme.example"])).await, 201);
    status(
        &api.call("PUT", &format!("{OKTA}/groups/a/group:b"), None, &[]).await,
        201,
    );
    status(&api.delete("/v1/tenants/acme", &[]).await, 204);
    let counts = api.entity_counts().await;
    for kind in ["identityProvider", "groupMapping", "domainClaim", "pending"] {
        assert_eq!(counts.get(kind), None, "{kind} items are gone: {counts:?}");
    }
    assert_eq!(
        status(&api.get("/v1/tenants?identityProviderId=okta").await, 200)["items"],
        json!([])
    );
    status(
        &put(
            &api,
            "/v1/tenants/globex/identity-providers/okta",
            &oidc(&["acme.example"]),
        )
        .await,
        201,
    );
    // A tenant created again under the same id inherits nothing.
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme again"}))
        .await;
    assert_eq!(
        status(&api.get("/v1/tenants/acme/identity-providers").await, 200)["count"],
        0
    );
}

#[tokio::test]
async fn providers_follow_the_tenant_rules_visibility_retirement_limits() {
    let api = acme_and_globex_with_okta().await;
    status(
        &api.send_json("PUT", "/v1/tenants/acme/members/ann", &json!({"role": "viewer"}), &[])
            .await,
        201,
    );
    let ann = format!("Bearer {}", token_for("ann", &[], ADMIN_SCOPE));
    let as_ann = |path: String| {
        let api = &api;
        let auth = ann.clone();
        async move { api.call("GET", &path, None, &[("authorization", auth.as_str())]).await }
    };
    // A member sees its tenant's providers, and only its tenants in the query by provider.
    let page = status(&as_ann("/v1/tenants?identityProviderId=okta".into()).await, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], "acme");
    status(
        &as_ann("/v1/identity-providers/by-domain/acme.example".into()).await,
        200,
    );
    as_ann("/v1/identity-providers/by-domain/globex.example".into())
        .await
        .problem(404);
    as_ann("/v1/tenants/globex/identity-providers/okta".into())
        .await
        .problem(404);
    let auth = ann.clone();
    let refused = api
        .send_json("PUT", OKTA, &oidc(&[]), &[("authorization", auth.as_str())])
        .await;
    refused.problem(403);

    // At most ten per tenant.
    for i in 1..10 {
        status(
            &put(
                &api,
                &format!("/v1/tenants/acme/identity-providers/idp-{i}"),
                &oidc(&[]),
            )
            .await,
            201,
        );
    }
    let eleventh = put(&api, "/v1/tenants/acme/identity-providers/idp-10", &oidc(&[])).await;
    assert!(eleventh.problem(409)["detail"]
        .as_str()
        .unwrap()
        .contains("10 identity providers"));

    // A retired tenant's providers are frozen until it is restored.
    status(&api.post("/v1/tenants/acme/retire", &json!({})).await, 200);
    put(&api, OKTA, &oidc(&[])).await.problem(409);
    api.delete(OKTA, &[]).await.problem(409);
    status(&api.get(OKTA).await, 200);
    status(&api.post("/v1/tenants/acme/restore", &json!({})).await, 200);
    status(&put(&api, OKTA, &oidc(&[])).await, 200);
}

#[tokio::test]
async fn the_by_domain_lookup_costs_three_reads() {
    let api = with_tenants(&["acme"]).await;
    status(&put(&api, OKTA, &oidc(&["acme.example"])).await, 201);
    api.take_requests();
    let owner = status(&api.get("/v1/identity-providers/by-domain/acme.example").await, 200);
    let requests = api.take_requests();
    println!("GET /v1/identity-providers/by-domain requests (platform admin): {requests:?}");
    assert_eq!(
        (&owner["tenantStatus"], &owner["identityProvider"]["clientId"]),
        (&json!("active"), &json!("client-1"))
    );
    assert_eq!(requests, [("GetItem".to_owned(), 3)].into(), "claim, tenant, provider");
}

#[tokio::test]
async fn if_match_asks_for_an_existing_provider() {
    let api = with_tenants(&["acme"]).await;
    let body = oidc(&["acme.example"]).to_string();
    let put_with = |tag: &'static str| {
        let api = &api;
        let body = body.clone();
        async move {
            api.call(
                "PUT",
                OKTA,
                Some(("application/json", body.as_bytes())),
                &[("if-match", tag)],
            )
            .await
        }
    };
    // RFC 9110: If-Match, even `*`, fails when there is no current provider.
    put_with("*").await.problem(412);
    put_with("\"1\"").await.problem(412);
    status(&put(&api, OKTA, &oidc(&["acme.example"])).await, 201);
    status(&put_with("*").await, 200);
    status(&put_with("\"1\"").await, 200);
}

#[tokio::test]
async fn the_provider_list_pages_by_id_with_cursors_sealed_for_the_caller() {
    let api = with_tenants(&["acme", "globex"]).await;
    for id in ["pingfed", "azure", "okta", "keycloak", "auth0"] {
        let path = format!("/v1/tenants/acme/identity-providers/{id}");
        status(&put(&api, &path, &oidc(&[])).await, 201);
    }
    status(
        &put(&api, "/v1/tenants/globex/identity-providers/okta", &oidc(&[])).await,
        201,
    );
    let base = "/v1/tenants/acme/identity-providers";
    let (mut ids, mut pages, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let path = match &cursor {
            Some(c) => format!("{base}?limit=2&cursor={c}"),
            None => format!("{base}?limit=2"),
        };
        api.take_requests();
        let page = status(&api.get(&path).await, 200);
        let requests = api.take_requests();
        assert_eq!(requests.get("Query"), Some(&1), "one Query a page: {requests:?}");
        assert!(page.get("total").is_none(), "{page}");
        let items = page["items"].as_array().unwrap();
        assert_eq!(page["count"].as_u64(), Some(items.len() as u64));
        ids.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        pages.push(items.len());
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
        let sealed = cursor.as_deref().unwrap();
        assert!(!sealed.contains("okta") && !sealed.contains("IDP#"), "opaque: {sealed}");
    }
    assert_eq!(ids, ["auth0", "azure", "keycloak", "okta", "pingfed"]);
    assert_eq!(pages, [2, 2, 1]);
    // The default page holds them all (25), with no cursor.
    let all = status(&api.get(base).await, 200);
    assert_eq!((all["count"].as_u64(), &all["nextCursor"]), (Some(5), &Value::Null));

    // A cursor opens only for its caller and its tenant's list.
    let first = status(&api.get(&format!("{base}?limit=1")).await, 200);
    let cursor = first["nextCursor"].as_str().unwrap();
    let viewer = format!("Bearer {}", token_for("vera", &[], ADMIN_SCOPE));
    for tenant in ["acme", "globex"] {
        let path = format!("/v1/tenants/{tenant}/members/vera");
        status(&api.send_json("PUT", &path, &json!({"role": "viewer"}), &[]).await, 201);
    }
    let as_vera = api
        .call(
            "GET",
            &format!("{base}?limit=1&cursor={cursor}"),
            None,
            &[("authorization", viewer.as_str())],
        )
        .await;
    assert_eq!(as_vera.problem(400)["errors"][0]["field"], "cursor");
    let elsewhere = api
        .get(&format!(
            "/v1/tenants/globex/identity-providers?limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(elsewhere.problem(400)["errors"][0]["field"], "cursor");
    let own = api
        .call(
            "GET",
            &format!("{base}?limit=1"),
            None,
            &[("authorization", viewer.as_str())],
        )
        .await;
    assert_eq!(status(&own, 200)["items"][0]["id"], "auth0");

    // Bad paging parameters: every one listed.
    let bad = api.get(&format!("{base}?limit=0&cursor=forged&sort=id")).await;
    bad.problem(400);
    assert_eq!(bad.error_fields(), ["limit", "cursor", "sort"]);
    api.get(&format!("{base}?limit=101")).await.problem(400);
}
