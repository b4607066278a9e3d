//! The OpenAPI document against its sources and the code: it is the merge
//! of api/openapi/*.yaml, it has every route and only those, each operation
//! names the permission the code asks for, and the statuses every route can
//! answer are documented. (Schemathesis, in `make test`, checks the answers
//! against the schemas.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Map, Value};
use shared::auth::Permission;
use yaml_rust2::{Yaml, YamlLoader};

use crate::helpers::{spawn_app, token_for};

fn api_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../api"))
}

fn document() -> Value {
    serde_json::from_str(shared::openapi::DOCUMENT).expect("api/openapi.json is JSON")
}

fn json_of(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => panic!("unexpected key {other:?}"),
                    };
                    (key, json_of(v))
                })
                .collect(),
        ),
        Yaml::Array(a) => Value::Array(a.iter().map(json_of).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => Value::from(r.parse::<f64>().unwrap()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        other => panic!("unexpected YAML {other:?}"),
    }
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(api_dir().join("openapi").join(name)).unwrap();
    json_of(&YamlLoader::load_from_str(&text).unwrap()[0])
}

fn merge(into: &mut Map<String, Value>, extra: &Value, at: &str) {
    for (key, value) in extra.as_object().into_iter().flatten() {
        assert!(
            into.insert(key.clone(), value.clone()).is_none(),
            "{at}{key} is defined twice"
        );
    }
}

#[test]
fn the_served_document_is_the_merge_of_its_yaml_sources() {
    let mut merged = load("base.yaml");
    let mut parts: Vec<String> = std::fs::read_dir(api_dir().join("openapi"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml") && n != "base.yaml")
        .collect();
    parts.sort();
    for name in &parts {
        let part = load(name);
        let doc = merged.as_object_mut().unwrap();
        merge(
            doc["paths"].as_object_mut().unwrap(),
            &part["paths"],
            &format!("{name}: paths."),
        );
        for (section, entries) in part["components"].as_object().into_iter().flatten() {
            let components = doc["components"].as_object_mut().unwrap();
            let into = components
                .entry(section.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            merge(
                into.as_object_mut().unwrap(),
                entries,
                &format!("{name}: components.{section}."),
            );
        }
    }
    assert!(
        merged == document(),
        "api/openapi.json is not the merge of api/openapi/*.yaml: run `make openapi`"
    );
    assert_eq!(document()["openapi"], "3.1.0");
}

/// Every (route key, operation) of the document.
pub fn operations() -> BTreeMap<String, Value> {
    let doc = document();
    let mut found = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                found.insert(format!("{} {path}", method.to_uppercase()), operation.clone());
            }
        }
    }
    found
}

#[test]
fn the_document_has_every_route_and_only_those() {
    let documented: BTreeSet<String> = operations().into_keys().collect();
    let served: BTreeSet<String> = dev_gateway::routes::all().map(|(r, _)| r.to_owned()).collect();
    assert_eq!(documented, served, "api/openapi.json and the functions' routes");
    let ids: Vec<String> = operations()
        .values()
        .map(|o| o["operationId"].as_str().expect("every operation has an id").to_owned())
        .collect();
    assert_eq!(
        ids.len(),
        ids.iter().collect::<BTreeSet<_>>().len(),
        "operation ids are unique"
    );
}

/// The permissions an operation names (`x-permission`: one, or a list).
fn permissions(operation: &Value) -> Vec<String> {
    match &operation["x-permission"] {
        Value::String(p) => vec![p.clone()],
        Value::Array(ps) => ps.iter().map(|p| p.as_str().unwrap().to_owned()).collect(),
        other => panic!("x-permission missing: {other}"),
    }
}

#[test]
fn every_operation_documents_the_statuses_every_route_can_answer() {
    let known: BTreeSet<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
    for (route, operation) in operations() {
        let responses = operation["responses"].as_object().unwrap();
        if dev_gateway::routes::PUBLIC.contains(&route.as_str()) {
            assert_eq!(operation["security"], Value::Array(vec![]), "{route} needs no token");
            continue;
        }
        for permission in permissions(&operation) {
            assert!(
                known.contains(permission.as_str()),
                "{route}: unknown permission {permission}"
            );
            let required: Vec<&Value> = operation["security"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .flatten()
                .collect();
            assert!(
                required.iter().any(|p| *p == permission.as_str()),
                "{route}: the security requirement names {permission}"
            );
        }
        for status in ["401", "403", "429", "503"] {
            assert!(responses.contains_key(status), "{route} documents {status}");
        }
        let has_input =
            operation["parameters"].as_array().is_some_and(|p| !p.is_empty()) || !operation["requestBody"].is_null();
        assert!(!has_input || responses.contains_key("400"), "{route} documents 400");
        if route.contains("{id}") {
            assert!(responses.contains_key("404"), "{route} documents 404");
        }
    }
}

/// `route`'s path with a value for each of its parameters, `{id}` being `tenant`.
pub fn sample_path(route: &str, tenant: &str) -> String {
    let path = route.split_once(' ').unwrap().1;
    [
        ("{id}", tenant),
        ("{userId}", "alice"),
        ("{subtenantId}", "team"),
        ("{ipId}", "okta"),
        ("{from}", "admins"),
        ("{to}", "group:tenant-admins"),
        ("{domain}", "acme.example"),
        ("{version}", "1"),
        ("{jobId}", crate::helpers::SAMPLE_JOB_ID),
        // Names compare caseless: the tenant `acme` is named `Acme`, `gone` `Gone`.
        ("{name}", tenant),
    ]
    .iter()
    .fold(path.to_owned(), |p, (param, value)| p.replace(param, value))
}

#[tokio::test]
async fn each_operation_names_the_permission_the_code_asks_for() {
    let api = spawn_app().await;
    api.create_tenant(serde_json::json!({"tenantId": "acme", "name": "Acme"}))
        .await;
    // Visibility goes first (issue 17): a route that names its resource by
    // path alone (a login domain, a job) answers 404 for one that does not
    // exist, token or no token; these exist.
    let idp = serde_json::json!({"type": "oidc", "issuer": "https://acme.okta.example", "clientId": "c", "domains": ["acme.example"]});
    let put = api
        .send_json("PUT", "/v1/tenants/acme/identity-providers/okta", &idp, &[])
        .await;
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
    let clone = api
        .post(
            "/v1/tenants/acme/clone",
            &serde_json::json!({"environment": "test", "name": "Acme Copy"}),
        )
        .await;
    assert_eq!(clone.status, 202, "{}", String::from_utf8_lossy(&clone.body));
    let job = clone.json()["jobId"].as_str().unwrap().to_owned();
    // A platform admin whose token grants nothing: every route refuses it,
    // naming the permission it needs.
    let auth = format!("Bearer {}", token_for("root", &["tenancy:admin"], ""));
    let mut wrong = Vec::new();
    for (route, operation) in operations() {
        if dev_gateway::routes::PUBLIC.contains(&route.as_str()) {
            let reply = api
                .call(
                    "GET",
                    &sample_path(&route, "acme"),
                    None,
                    &[("authorization", "Bearer nonsense")],
                )
                .await;
            assert_eq!(reply.status, 200, "{route} answers without a token");
            continue;
        }
        let method = route.split_once(' ').unwrap().0;
        let body = (method != "GET" && method != "DELETE").then_some(("application/json", b"{}".as_slice()));
        let path = sample_path(&route, "acme").replace(crate::helpers::SAMPLE_JOB_ID, &job);
        let reply = api.call(method, &path, body, &[("authorization", &auth)]).await;
        let detail = reply.problem(403)["detail"].as_str().unwrap().to_owned();
        if !permissions(&operation)
            .iter()
            .any(|p| detail.contains(&format!("'{p}'")))
        {
            wrong.push(format!(
                "{route}: documents {:?}, the code says: {detail}",
                permissions(&operation)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The problem codes the document lists are exactly the code's, in its
/// order, each described as the code describes it.
#[test]
fn the_document_lists_every_problem_code_and_only_those() {
    let document = document();
    let code = &document["components"]["schemas"]["Problem"]["properties"]["code"];
    let listed: Vec<&str> = code["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let codes: Vec<&str> = shared::Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, codes);
    for c in shared::Code::ALL {
        assert_eq!(
            code["x-enumDescriptions"][c.as_str()],
            format!("{} (`type` /problems/{})", c.meaning(), c.kind()),
            "{c}"
        );
    }
    let required = document["components"]["schemas"]["Problem"]["required"]
        .as_array()
        .unwrap();
    assert!(required.contains(&"code".into()));
}

/// The problem codes page's table is the enum's, in its order, each with its
/// meaning (a code added to the enum fails here until it is documented).
#[test]
fn the_problem_codes_page_lists_every_code_with_its_meaning() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/reference/problem-codes.md"
    ))
    .unwrap();
    let rows: Vec<(String, String)> = page
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix("| `")?.split(" | ").collect();
            let code = cells.first()?.strip_suffix('`')?;
            let meaning = cells.last()?.trim_end_matches(" |");
            shared::Code::ALL
                .iter()
                .any(|c| c.as_str() == code)
                .then(|| (code.to_owned(), meaning.to_owned()))
        })
        .collect();
    let expected: Vec<(String, String)> = shared::Code::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.meaning().to_owned()))
        .collect();
    assert_eq!(rows, expected);
}
