//! Fuzzing at the boundary users see: random requests to every route (paths
//! with odd segments, query strings of known and unknown parameters with
//! garbage values, forged cursors, JSON of every shape and raw bytes under
//! every content type, odd `If-Match` and `Idempotency-Key` headers). Every
//! request parser is on the way. Whatever comes in: no 5xx, every error of a
//! route a problem+json that says its own status (a path no route matches
//! gets API Gateway's own 404), and (as every test's table) the invariants
//! still hold afterwards.
//!
//! Bounded in `make test` (300 requests); longer on demand:
//! `TENANCY_FUZZ_CASES=20000 cargo test -p integration-tests --test api fuzz`.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApi};

const FIELDS: &[&str] = &[
    "tenantId",
    "name",
    "tags",
    "externalIds",
    "parentId",
    "resellerId",
    "status",
    "environment",
    "type",
    "settings",
    "description",
    "configuration",
    "code",
    "role",
    "domains",
    "kind",
    "issuer",
    "clientId",
    "metadataUrl",
    "reason",
    "useTenantLanguages",
    "version",
    "id",
    "from",
    "to",
];
const PARAMETERS: &[&str] = &[
    "limit",
    "cursor",
    "sort",
    "sortBy",
    "orderBy",
    "offset",
    "includeTotal",
    "status",
    "environment",
    "type",
    "tags",
    "name",
    "externalId",
    "parentId",
    "resellerId",
    "identityProviderId",
    "force",
    "dryRun",
    "download",
    "noResellerIdToGroups",
    "forceResellerIdToGroups",
    "tenantId",
    "domain",
    "before",
    "zzz",
];
const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/merge-patch+json",
    "application/zip",
    "text/plain",
    "application/json; charset=latin1",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("acme".to_owned()),
        Just("sales".to_owned()),
        Just("okta".to_owned()),
        Just("1".to_owned()),
        Just(String::new()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("true".to_owned()),
        Just("%2F..%2F".to_owned()),
        Just("%FF%00".to_owned()),
        "[a-z0-9-]{1,12}",
        "\\PC{0,20}",
        "[A-Za-z0-9_=-]{20,300}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        word().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::vec((proptest::sample::select(FIELDS), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// A request: method, path, query, content type, body, extra headers.
#[derive(Debug, Clone)]
struct Fuzzed {
    method: String,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    if_match: Option<String>,
    idempotency_key: Option<String>,
}

fn route_keys() -> Vec<&'static str> {
    dev_gateway::routes::all().map(|(key, _)| key).collect()
}

fn request() -> impl Strategy<Value = Fuzzed> {
    let routes = route_keys();
    (
        proptest::sample::select(routes),
        proptest::collection::vec(word(), 3),
        proptest::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE"]),
        any::<bool>(),
        proptest::collection::vec((proptest::sample::select(PARAMETERS), word()), 0..4),
        proptest::sample::select(CONTENT_TYPES),
        prop_oneof![
            json_value().prop_map(|v| v.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ],
        proptest::option::of(prop_oneof![Just("*".to_owned()), Just("\"1\"".to_owned()), word()]),
        proptest::option::of(word()),
    )
        .prop_map(
            |(route, segments, other_method, keep_method, query, content_type, body, if_match, idempotency_key)| {
                let (method, template) = route.split_once(' ').unwrap();
                let mut path = String::new();
                let mut next = segments.iter().cycle();
                for part in template.split('/').skip(1) {
                    path.push('/');
                    if part.starts_with('{') {
                        let segment = next.next().unwrap();
                        let segment: String = segment
                            .chars()
                            .filter(|c| !c.is_control() && !c.is_whitespace() && !"?#/".contains(*c))
                            .collect();
                        path.push_str(
                            &percent_encoding::utf8_percent_encode(&segment, percent_encoding::NON_ALPHANUMERIC)
                                .to_string()
                                .replace("%25", "%"),
                        );
                    } else {
                        path.push_str(part);
                    }
                }
                if !query.is_empty() {
                    let pairs: Vec<String> = query
                        .iter()
                        .map(|(k, v)| {
                            format!(
                                "{k}={}",
                                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                            )
                        })
                        .collect();
                    path = format!("{path}?{}", pairs.join("&"));
                }
                Fuzzed {
                    method: if keep_method { method } else { other_method }.to_owned(),
                    path,
                    content_type,
                    body,
                    if_match,
                    idempotency_key,
                }
            },
        )
}

async fn world() -> TestApi {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "tags": ["gold"], "resellerId": "r1"}))
        .await;
    api.create_tenant(json!({"tenantId": "sales", "name": "Sales", "parentId": "acme"}))
        .await;
    assert_eq!(
        api.post("/v1/tenants/acme/subtenants", &json!({"name": "Sales"}))
            .await
            .status,
        201
    );
    api
}

#[test]
fn random_requests_never_get_a_5xx_and_errors_are_problems() {
    let cases = std::env::var("TENANCY_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(world());
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    proptest!(config, |(request in request())| {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(tag) = &request.if_match {
            headers.push(("if-match", tag));
        }
        if let Some(key) = &request.idempotency_key {
            headers.push(("idempotency-key", key));
        }
        let body = (!request.content_type.is_empty()).then_some((request.content_type, request.body.as_slice()));
        let reply = runtime.block_on(api.call(&request.method, &request.path, body, &headers));
        *statuses.lock().unwrap().entry(reply.status).or_default() += 1;
        prop_assert!(reply.status < 500, "{request:?} answered {}: {}", reply.status, String::from_utf8_lossy(&reply.body));
        let route_path = request.path.split('?').next().unwrap_or_default();
        if dev_gateway::routes::find(&request.method, route_path).is_none() {
            // No route: API Gateway's own answer, as it gives it.
            prop_assert_eq!(reply.status, 404);
            prop_assert_eq!(reply.json(), json!({"message": "Not Found"}));
        } else if reply.status >= 400 && !reply.body.is_empty() {
            prop_assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{:?}", request);
            let problem: Value = serde_json::from_slice(&reply.body).expect("a problem is JSON");
            prop_assert_eq!(problem["status"].as_u64(), Some(reply.status as u64), "{:?}", request);
        }
    });
    println!("fuzz: {cases} requests, by status: {:?}", statuses.lock().unwrap());
    drop(api);
}
