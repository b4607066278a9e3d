//! Every sample event in events/ works, through the same handler Lambda calls
//! (no gateway in between), and every route has a sample.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dev_gateway::routes::{self, Function};
use serde_json::Value;

use crate::helpers::{spawn_app, SAMPLE_JOB_ID};

/// The samples in the order a user would try them, with the status each answers.
pub(crate) const WALK_THROUGH: &[(&str, u16)] = &[
    ("tenants-create", 201),
    ("tenants-create-child", 201),
    ("tenants-get", 200),
    ("openapi-get", 200),
    ("tenants-mine", 200),
    ("members-put", 201),
    ("members-get", 200),
    ("members-list", 200),
    ("members-delete", 204),
    ("tenants-get-by-name", 200),
    ("tenants-list", 200),
    ("tenants-children", 200),
    ("tenants-ancestors", 200),
    ("tenants-replace", 200),
    ("tenants-patch", 200),
    ("subtenants-create", 201),
    ("subtenants-list", 200),
    ("subtenants-list-all", 200),
    ("subtenants-get", 200),
    ("subtenants-replace", 200),
    ("subtenants-patch", 200),
    ("subtenants-delete", 204),
    ("identity-providers-put", 201),
    ("identity-providers-get", 200),
    ("identity-providers-list", 200),
    ("identity-providers-by-domain", 200),
    ("tenants-list-by-identity-provider", 200),
    ("identity-providers-groups-put", 201),
    ("identity-providers-groups-get", 200),
    ("identity-providers-groups-list", 200),
    ("identity-providers-groups-delete", 204),
    ("identity-providers-delete", 204),
    ("deployments-create", 201),
    ("deployments-create-zip", 201),
    ("deployments-list", 200),
    ("deployments-get", 200),
    ("deployments-download", 200),
    ("tenants-clone", 202),
    // Before it, the walk-through hands events/jobs-queued.json (with the
    // clone's job id) to the jobs handler, as the stream would.
    ("jobs-get", 200),
    ("tenants-retire", 200),
    ("tenants-restore", 200),
    ("tenants-events", 200),
    ("events-feed", 200),
    ("tenants-delete", 200),
    ("tenants-delete-clone", 204),
];

fn events_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))
}

fn event_files() -> BTreeSet<String> {
    std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_owned())
        .collect()
}

fn read_event(name: &str) -> String {
    std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap()
}

async fn invoke(app: &shared::HttpApp, function: Function, event: &str) -> lambda_http::Response<lambda_http::Body> {
    let request = lambda_http::request::from_str(event).expect("lambda_http reads the sample");
    function.invoke(app, request).await
}

#[tokio::test]
async fn every_sample_event_answers_its_status_in_the_walk_through() {
    let api = spawn_app().await;
    let mut job_id = SAMPLE_JOB_ID.to_owned();
    for (name, status) in WALK_THROUGH {
        if *name == "jobs-get" {
            let stream: aws_lambda_events::event::dynamodb::Event =
                serde_json::from_str(&read_event("jobs-queued").replace(SAMPLE_JOB_ID, &job_id)).unwrap();
            assert!(
                jobs::is_queued_job(&stream.records[0]),
                "the sample passes the template's filter"
            );
            let response = jobs::handle(api.app(), &stream).await;
            assert!(response.batch_item_failures.is_empty(), "jobs-queued runs the clone");
        }
        let event = read_event(name).replace(SAMPLE_JOB_ID, &job_id);
        let route: Value = serde_json::from_str(&event).unwrap();
        let route_key = route["routeKey"].as_str().unwrap();
        let function = Function::of_route(route_key).expect("a declared route");
        let response = invoke(api.app(), function, &event).await;
        let body = match response.body() {
            lambda_http::Body::Text(t) => t.clone(),
            lambda_http::Body::Binary(b) => format!("{} bytes", b.len()),
            _ => String::new(),
        };
        assert_eq!(response.status().as_u16(), *status, "{name}: {body}");
        if *name == "tenants-clone" {
            job_id = serde_json::from_str::<Value>(&body).unwrap()["jobId"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        if *name == "jobs-get" {
            assert_eq!(
                serde_json::from_str::<Value>(&body).unwrap()["status"],
                "succeeded",
                "{body}"
            );
        }
        if *name == "deployments-create-zip" {
            let deployment: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(deployment["version"], 2);
            assert_eq!(
                deployment["result"]["rejected"][0]["path"], "../escape.txt",
                "{deployment}"
            );
        }
        if *name == "tenants-list" || *name == "tenants-list-by-identity-provider" {
            let page: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(page["items"][0]["id"], "acme-corp", "{name} finds the created tenant");
        }
        if *name == "identity-providers-by-domain" || *name == "identity-providers-groups-get" {
            let found: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(found["tenantId"], "acme-corp", "{name}: {found}");
        }
    }
    assert_eq!(
        api.entity_counts().await,
        [("idempotency".to_owned(), 1), ("job".to_owned(), 1)].into(),
        "the walk-through deletes what it created; the idempotency record and the job stay until their TTL"
    );
}

#[tokio::test]
async fn every_route_has_a_sample_and_every_sample_is_walked_through() {
    // HTTP samples carry a route key; the others are the clean-up's events,
    // which tests/api/cleanup.rs runs.
    let (http, other): (BTreeSet<String>, BTreeSet<String>) = event_files()
        .into_iter()
        .partition(|name| serde_json::from_str::<Value>(&read_event(name)).unwrap()["routeKey"].is_string());
    let walked: BTreeSet<String> = WALK_THROUGH.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(http, walked, "events/ and the walk-through list the same HTTP samples");
    assert_eq!(
        other,
        BTreeSet::from([
            "cleanup-dry-run".to_owned(),
            "cleanup-schedule".to_owned(),
            "jobs-queued".to_owned(),
            "notifier-tenant-created".to_owned()
        ])
    );
    let sampled: BTreeSet<String> = http
        .iter()
        .map(|name| {
            serde_json::from_str::<Value>(&read_event(name)).unwrap()["routeKey"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let declared: BTreeSet<String> = routes::all().map(|(r, _)| r.to_owned()).collect();
    assert_eq!(
        sampled, declared,
        "a sample event per route, and no sample for an unknown route"
    );
}
