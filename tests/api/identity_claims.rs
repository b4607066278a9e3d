//! Issue 24: the access tokens of Amazon Cognito, Auth0, Okta and Microsoft
//! Entra ID, in their real claim shapes (tests/fixtures/claims/*.json, the
//! samples docs/security/identity-providers.md shows), through the gateway
//! as the HTTP API JWT authoriser hands them over: every claim stringified
//! in `requestContext.authorizer.jwt.claims` (arrays as `[a b]`) and the
//! token itself in the `Authorization` header. Each provider's recipe (its
//! `ROLES_CLAIM`, `PERMISSION_PREFIX`, `PERMISSIONS_CLAIMS`) must make its
//! admin group a platform admin, give a tenant user exactly the permissions
//! its scopes name, and grant nothing for another resource server's scopes.

use std::sync::atomic::{AtomicU32, Ordering};

use dev_gateway::jwt::{sign, Verifier};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};
use shared::store::table::Stream;
use shared::{store, Config, HttpApp};

use crate::helpers::{dynamodb, TestApi, SECRET};

/// One provider's recipe and sample tokens.
struct Provider {
    name: String,
    issuer: String,
    audience: String,
    /// The function settings the recipe sets (as template parameters).
    settings: Map<String, Value>,
    /// Decoded access tokens by role in the test (times are added when signed).
    tokens: Map<String, Value>,
}

fn fixtures_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/claims"))
}

fn provider(file: &str) -> Provider {
    let path = fixtures_dir().join(format!("{file}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    let string = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("{file}: {k}")).to_owned();
    Provider {
        name: string("provider"),
        issuer: string("issuer"),
        audience: string("audience"),
        settings: v["settings"].as_object().unwrap().clone(),
        tokens: v["tokens"].as_object().unwrap().clone(),
    }
}

const PROVIDERS: [&str; 4] = ["cognito", "auth0", "okta", "entra"];

static TABLES: AtomicU32 = AtomicU32::new(0);

impl Provider {
    /// The decoded token `which` of the fixture.
    fn claims(&self, which: &str) -> &Value {
        self.tokens
            .get(which)
            .unwrap_or_else(|| panic!("{}: no token '{which}'", self.name))
    }

    fn sub(&self, which: &str) -> String {
        self.claims(which)["sub"].as_str().unwrap().to_owned()
    }

    /// The token `which`, valid for an hour from now, signed with the key the
    /// gateway's authoriser verifies.
    fn token(&self, which: &str) -> String {
        let mut claims = self.claims(which).as_object().unwrap().clone();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 3600).into());
        sign(&Value::Object(claims), SECRET)
    }

    /// A gateway over a fresh table whose authoriser accepts this provider's
    /// issuer and audience, and whose functions read the recipe's settings;
    /// its default token is the platform admin's.
    async fn spawn(&self) -> TestApi {
        let endpoint = dynamodb().endpoint.clone();
        let connection = store::local_client(&endpoint);
        let client = connection.client.clone();
        let table = format!("idp{}-{}", std::process::id(), TABLES.fetch_add(1, Ordering::Relaxed));
        store::table::create(&client, &table, Stream::On)
            .await
            .expect("table created");
        let settings = self.settings.clone();
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some(table.clone()),
            "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
            "CURSOR_SECRET" => Some("test-cursor-secret-0123456789".into()),
            other => settings.get(other).map(|v| v.as_str().unwrap().to_owned()),
        })
        .unwrap_or_else(|e| panic!("{}: the recipe's settings are refused: {e}", self.name));
        let verifier = Verifier {
            secret: SECRET.to_vec(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
        };
        let gateway = dev_gateway::Gateway::new(HttpApp::new(config, connection), verifier, "127.0.0.1:3000");
        TestApi {
            gateway,
            client,
            table,
            endpoint,
            token: self.token("platform_admin"),
        }
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn member_path(sub: &str) -> String {
    format!(
        "/v1/tenants/acme/members/{}",
        utf8_percent_encode(sub, NON_ALPHANUMERIC)
    )
}

/// For each provider: its admin group or role makes a platform admin, who
/// creates a tenant and makes a user its operator; that user's read-only
/// scopes read it (200) and cannot write it (403 `permission_missing`, the
/// role would allow it); the same user with another resource server's
/// scopes has no permission at all.
#[tokio::test]
async fn each_providers_tokens_grant_what_their_scopes_and_groups_say() {
    for file in PROVIDERS {
        let p = provider(file);
        let api = p.spawn().await;
        let name = &p.name;

        // The platform admin, by its group (Cognito, Okta), namespaced role
        // claim (Auth0) or app role (Entra).
        let created = api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
        assert_eq!(
            created["createdBy"],
            p.sub("platform_admin"),
            "{name}: `sub` names the caller"
        );
        assert_eq!(api.get("/v1/tenants").await.status, 200, "{name}");
        let reader = p.sub("reader");
        let added = api
            .send_json("PUT", &member_path(&reader), &json!({"role": "operator"}), &[])
            .await;
        assert_eq!(added.status, 201, "{name}: {}", String::from_utf8_lossy(&added.body));
        assert_eq!(added.json()["userId"], reader, "{name}");

        // The tenant user: tenants:read and tenants:list only.
        let auth = bearer(&p.token("reader"));
        let as_reader = [("authorization", auth.as_str())];
        let got = api.call("GET", "/v1/tenants/acme", None, &as_reader).await;
        assert_eq!(got.status, 200, "{name}: {}", String::from_utf8_lossy(&got.body));
        let mine = api.call("GET", "/v1/tenants/mine", None, &as_reader).await;
        assert_eq!(mine.status, 200, "{name}");
        let mine = mine.json();
        assert_eq!(
            (&mine["items"][0]["id"], &mine["items"][0]["role"]),
            (&json!("acme"), &json!("operator")),
            "{name}: {mine}"
        );
        let patch = json!({"description": "changed"}).to_string();
        let write = api
            .call(
                "PATCH",
                "/v1/tenants/acme",
                Some(("application/merge-patch+json", patch.as_bytes())),
                &as_reader,
            )
            .await;
        assert_eq!(write.code(403), "permission_missing", "{name}");
        assert!(
            write.json()["detail"].as_str().unwrap().contains("tenants:write"),
            "{name}: {}",
            write.json()
        );
        let members = api.call("GET", "/v1/tenants/acme/members", None, &as_reader).await;
        assert_eq!(members.code(403), "permission_missing", "{name}");
        let retire = api.call("POST", "/v1/tenants/acme/retire", None, &as_reader).await;
        assert_eq!(retire.code(403), "permission_missing", "{name}");

        // The same user with another resource server's scopes: nothing.
        let auth = bearer(&p.token("foreign"));
        let as_foreign = [("authorization", auth.as_str())];
        for path in ["/v1/tenants/acme", "/v1/tenants", "/v1/tenants/mine"] {
            let reply = api.call("GET", path, None, &as_foreign).await;
            assert_eq!(reply.code(403), "permission_missing", "{name}: {path}");
        }

        // A token for another API is the authoriser's to refuse (wrong audience).
        if p.tokens.contains_key("other_audience") {
            let auth = bearer(&p.token("other_audience"));
            let reply = api
                .call("GET", "/v1/tenants/acme", None, &[("authorization", auth.as_str())])
                .await;
            assert_eq!(reply.status, 401, "{name}: another audience");
        }
    }
}

/// Cognito's resource-server form is the only one that counts once
/// `PERMISSION_PREFIX` is set: the bare names grant nothing, and without the
/// prefix (the old behaviour) a Cognito user gets no permission at all.
#[tokio::test]
async fn cognito_scopes_count_only_with_the_resource_server_prefix() {
    let p = provider("cognito");
    let api = p.spawn().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let sub = p.sub("reader");
    let added = api
        .send_json("PUT", &member_path(&sub), &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(added.status, 201);
    // Bare names, as another user pool client might ask for them.
    let mut bare = p.claims("reader").clone();
    bare["scope"] = json!("openid tenants:read tenants:list");
    let mut bare_provider = provider("cognito");
    bare_provider.tokens.insert("bare".into(), bare);
    let auth = bearer(&bare_provider.token("bare"));
    let reply = api
        .call("GET", "/v1/tenants/acme", None, &[("authorization", auth.as_str())])
        .await;
    assert_eq!(reply.code(403), "permission_missing");

    // Without the prefix, the recipe's own tokens grant nothing.
    let mut unprefixed = provider("cognito");
    unprefixed.settings.remove("PERMISSION_PREFIX");
    let api = unprefixed.spawn().await;
    let reply = api
        .post("/v1/tenants", &json!({"tenantId": "acme", "name": "Acme"}))
        .await;
    assert_eq!(
        reply.code(403),
        "permission_missing",
        "the admin group alone grants no permission"
    );
}

/// Okta: a groups claim without a filter carries names with spaces
/// ("Everyone"); read from the verified token, such an array is refused
/// whole (401 naming the claim), never split into roles. The recipe filters
/// the claim to the platform's roles.
#[tokio::test]
async fn okta_groups_with_spaces_are_refused_not_split() {
    let p = provider("okta");
    let api = p.spawn().await;
    let auth = bearer(&p.token("unfiltered_groups"));
    let reply = api
        .call("GET", "/v1/tenants", None, &[("authorization", auth.as_str())])
        .await;
    assert_eq!(reply.code(401), "invalid_claim");
    assert_eq!(reply.error_fields(), ["groups"]);
}

/// Entra: an application (client credentials) has no `scp`; its app roles
/// in `roles` are its permissions when `PERMISSIONS_CLAIMS` lists `roles`,
/// and its `sub` (the service principal's object id) is what a membership names.
#[tokio::test]
async fn an_entra_application_reads_with_its_app_roles() {
    let p = provider("entra");
    let api = p.spawn().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    let daemon = p.claims("daemon");
    assert_eq!(daemon["sub"], daemon["oid"]);
    let added = api
        .send_json("PUT", &member_path(&p.sub("daemon")), &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(added.status, 201);
    let auth = bearer(&p.token("daemon"));
    let as_daemon = [("authorization", auth.as_str())];
    assert_eq!(api.call("GET", "/v1/tenants/acme", None, &as_daemon).await.status, 200);
    let reply = api.call("DELETE", "/v1/tenants/acme", None, &as_daemon).await;
    assert_eq!(reply.code(403), "permission_missing");
}

/// The doc shows each provider's sample tokens: every decoded token in
/// docs/security/identity-providers.md is one of the fixtures these tests
/// send, and every provider's admin token is shown.
#[test]
fn the_recipes_show_the_tokens_that_are_tested() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/security/identity-providers.md"
    ))
    .unwrap();
    let blocks: Vec<Value> = doc
        .split("```json\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block))
        .map(|block| serde_json::from_str(block).unwrap_or_else(|e| panic!("{e}: {block}")))
        .collect();
    let fixtures: Vec<(String, String, Value)> = PROVIDERS
        .iter()
        .flat_map(|file| {
            let p = provider(file);
            p.tokens
                .iter()
                .map(|(which, claims)| (p.name.clone(), which.clone(), claims.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let tokens: Vec<&Value> = blocks.iter().filter(|b| b.get("sub").is_some()).collect();
    for token in &tokens {
        assert!(
            fixtures.iter().any(|(_, _, f)| f == *token),
            "a sample token in the doc that no test sends: {token}"
        );
    }
    for (name, which, claims) in &fixtures {
        if which == "platform_admin" || which == "reader" {
            assert!(tokens.contains(&claims), "the doc does not show {name}'s {which} token");
        }
    }
    for permission in shared::auth::Permission::ALL {
        assert!(
            doc.contains(&format!("`{}`", permission.name())),
            "the doc does not list the permission {}",
            permission.name()
        );
    }
    // The error messages it quotes are the ones a function gives.
    for (name, value) in [
        ("PERMISSION_PREFIX", "https://tenancy.example.com"),
        ("PERMISSIONS_CLAIMS", "scp scp"),
    ] {
        let refused = Config::from_lookup(|n| match n {
            "TABLE_NAME" => Some("t".into()),
            n if n == name => Some(value.into()),
            _ => None,
        })
        .unwrap_err();
        assert!(
            doc.contains(&format!("`{refused}`")),
            "the doc does not quote: {refused}"
        );
    }
    for file in PROVIDERS {
        let p = provider(file);
        for (setting, value) in &p.settings {
            let shown = format!("{setting}={}", value.as_str().unwrap());
            assert!(doc.contains(&shown), "{}: the doc does not say {shown}", p.name);
        }
    }
}
