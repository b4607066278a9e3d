//! The deployments and jobs functions: JSON and zip deploys with their
//! numbering, no-ops, downloads and errors; a create with a configuration;
//! clones run end to end through the dev gateway's stream poller, repeated
//! and late stream records, a source deleted meanwhile, and who may clone.

use std::time::{Duration, Instant};

use dev_gateway::stream::{Consumer, StreamPoller};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, token_for, Reply, TestApi};

const DEPLOYMENTS: &str = "/v1/tenants/acme/deployments";

#[track_caller]
fn status(reply: &Reply, expected: u16) -> Value {
    assert_eq!(reply.status, expected, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

/// A zip of stored entries, as a client would upload it (CRCs are left 0:
/// the API lists archives, it does not extract them).
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let header = |signature: u32, central_entry: bool| {
            let mut h = signature.to_le_bytes().to_vec();
            if central_entry {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(0u16.to_le_bytes()); // stored
            h.extend([0u8; 4]); // time, date
            h.extend(0u32.to_le_bytes()); // crc
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            h
        };
        out.extend(header(0x04034b50, false));
        out.extend(name.as_bytes());
        out.extend(*data);
        central.extend(header(0x02014b50, true));
        central.extend([0u8; 6]); // comment length, disk, internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (start, size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend(0x06054b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

async fn deploy_json(api: &TestApi, tenant: &str, body: &Value) -> Reply {
    api.send_json("POST", &format!("/v1/tenants/{tenant}/deployments"), body, &[])
        .await
}

async fn deploy_zip(api: &TestApi, bytes: &[u8]) -> Reply {
    api.call("POST", DEPLOYMENTS, Some(("application/zip", bytes)), &[])
        .await
}

async fn with_acme() -> TestApi {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api
}

fn versions(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["version"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn json_and_zip_deploys_count_versions_and_download_their_bytes() {
    let api = with_acme().await;
    let config = json!({"rating": {"currency": "EUR"}, "products": ["auto"]});
    api.take_requests();
    let first = deploy_json(&api, "acme", &config).await;
    let requests = api.take_requests();
    println!("a deploy: {requests:?}");
    assert_eq!(
        requests,
        [("GetItem".to_owned(), 1), ("TransactWriteItems".to_owned(), 1)].into(),
        "one read of the tenant, one transaction"
    );
    let v1 = status(&first, 201);
    assert_eq!(first.header("location"), Some("/v1/tenants/acme/deployments/1"));
    assert_eq!(first.header("etag"), Some("\"1\""));
    assert_eq!(
        (&v1["version"], &v1["format"], &v1["contentType"]),
        (&json!(1), &json!("json"), &json!("application/json"))
    );
    assert_eq!(v1["result"]["keys"], json!(["products", "rating"]));
    assert_eq!(v1["createdBy"], "test-admin");
    assert_eq!(v1["sha256"].as_str().unwrap().len(), 64);

    // The same bytes again: the current version, nothing written.
    let before = api.scan().await.len();
    let again = deploy_json(&api, "acme", &config).await;
    assert_eq!(status(&again, 200)["version"], 1);
    assert_eq!(api.scan().await.len(), before, "a no-op writes nothing");

    let archive = zip(&[
        ("config/rating.json", b"{\"currency\": \"GBP\"}"),
        ("config/", b""),
        ("../escape.txt", b"x"),
        ("/etc/passwd", b"x"),
    ]);
    let v2 = status(&deploy_zip(&api, &archive).await, 201);
    assert_eq!((&v2["version"], &v2["format"]), (&json!(2), &json!("zip")));
    assert_eq!(v2["result"]["status"], "validWithWarnings");
    assert_eq!(
        v2["result"]["files"],
        json!([{"path": "config/rating.json", "size": 19}])
    );
    let rejected: Vec<&str> = v2["result"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(rejected, ["../escape.txt", "/etc/passwd"]);
    assert_eq!(v2["size"], archive.len());

    let tenant = api.get("/v1/tenants/acme").await.json();
    assert_eq!(tenant["configurationVersion"], 2);
    assert_eq!(tenant["configurationSha256"], v2["sha256"]);

    // Newest first, paged.
    assert_eq!(versions(&api.get(DEPLOYMENTS).await.json()), [2, 1]);
    let page = api.get(&format!("{DEPLOYMENTS}?limit=1")).await.json();
    assert_eq!(versions(&page), [2]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest = api.get(&format!("{DEPLOYMENTS}?limit=1&cursor={cursor}")).await.json();
    assert_eq!((versions(&rest), &rest["nextCursor"]), (vec![1], &Value::Null));

    assert_eq!(status(&api.get(&format!("{DEPLOYMENTS}/1")).await, 200), v1);
    let json_bytes = api.get(&format!("{DEPLOYMENTS}/1?download=true")).await;
    assert_eq!(json_bytes.status, 200);
    assert_eq!(json_bytes.header("content-type"), Some("application/json"));
    assert_eq!(serde_json::from_slice::<Value>(&json_bytes.body).unwrap(), config);
    let zip_bytes = api.get(&format!("{DEPLOYMENTS}/2?download=true")).await;
    assert_eq!(zip_bytes.status, 200);
    assert_eq!(zip_bytes.header("content-type"), Some("application/zip"));
    assert_eq!(
        zip_bytes.header("content-disposition"),
        Some("attachment; filename=\"acme-v2.zip\"")
    );
    assert_eq!(zip_bytes.body.as_ref(), archive.as_slice(), "the original bytes");

    // Deleting the tenant takes its deployments with it.
    assert_eq!(api.delete("/v1/tenants/acme", &[]).await.status, 204);
    let left = api.entity_counts().await;
    assert!(
        !left.contains_key("deployment") && !left.contains_key("deploymentContent"),
        "{left:?}"
    );
}

#[tokio::test]
async fn bad_configurations_and_requests_get_clear_errors_and_write_nothing() {
    let api = with_acme().await;
    let before = api.scan().await.len();

    let big = zip(&[("big.bin", &vec![7u8; 256 * 1024])]);
    let problem = deploy_zip(&api, &big).await.problem(413);
    assert!(
        problem["detail"].as_str().unwrap().contains("262144 bytes"),
        "{problem}"
    );
    let problem = deploy_zip(&api, b"PK\x03\x04 this is not a zip").await.problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("zip"), "{problem}");
    let only_bad = zip(&[("../a", b"x"), ("/b", b"y")]);
    let problem = deploy_zip(&api, &only_bad).await.problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("no usable file"),
        "{problem}"
    );
    let long_names: Vec<String> = (0..70).map(|i| format!("{i:03}-{}", "n".repeat(1000))).collect();
    let entries: Vec<(&str, &[u8])> = long_names.iter().map(|n| (n.as_str(), b"x".as_slice())).collect();
    let problem = deploy_zip(&api, &zip(&entries)).await.problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("entry names add up to"),
        "{problem}"
    );
    let problem = deploy_json(&api, "acme", &json!([1, 2])).await.problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("object"), "{problem}");
    api.call("POST", DEPLOYMENTS, Some(("application/json", b"{\"a\":")), &[])
        .await
        .problem(400);
    api.call("POST", DEPLOYMENTS, Some(("text/plain", b"hello")), &[])
        .await
        .problem(415);
    api.call("POST", DEPLOYMENTS, None, &[]).await.problem(400);
    deploy_json(&api, "nobody", &json!({})).await.problem(404);
    assert_eq!(api.scan().await.len(), before, "nothing written");

    status(&deploy_json(&api, "acme", &json!({"a": 1})).await, 201);
    let bad = api.get(&format!("{DEPLOYMENTS}/0")).await;
    bad.problem(400);
    assert_eq!(bad.error_fields(), ["version"]);
    let bad = api.get("/v1/tenants/ACME!/deployments/x").await;
    bad.problem(400);
    assert_eq!(bad.error_fields(), ["id", "version"], "every error listed");
    api.get(&format!("{DEPLOYMENTS}/2")).await.problem(404);
    api.get(&format!("{DEPLOYMENTS}/2?download=true")).await.problem(404);
    api.get(&format!("{DEPLOYMENTS}/1?download=maybe")).await.problem(400);
    api.get(&format!("{DEPLOYMENTS}?cursor=forged")).await.problem(400);
    api.get(&format!("{DEPLOYMENTS}?limit=0")).await.problem(400);
    api.get(&format!("{DEPLOYMENTS}?sort=x")).await.problem(400);

    status(&api.post("/v1/tenants/acme/retire", &json!({})).await, 200);
    let problem = deploy_json(&api, "acme", &json!({"b": 2})).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("retired"), "{problem}");
}

#[tokio::test]
async fn ten_concurrent_deploys_get_ten_distinct_versions() {
    let api = with_acme().await;
    // Sent as a client told 503 `contended` would (again after
    // `Retry-After`): on a machine loaded by the whole suite, ten deploys of
    // one tenant can outlast the server's 4 s of retries.
    let replies = join_all((0..10).map(|i| {
        let api = &api;
        async move {
            let path = "/v1/tenants/acme/deployments";
            api.send_json_retrying_contention("POST", path, &json!({"deploy": i}))
                .await
                .0
        }
    }))
    .await;
    let mut by_version = std::collections::BTreeMap::new();
    for (i, reply) in replies.iter().enumerate() {
        let deployment = status(reply, 201);
        let version = deployment["version"].as_u64().unwrap();
        assert!(by_version.insert(version, i).is_none(), "version {version} given twice");
        let bytes = api.get(&format!("{DEPLOYMENTS}/{version}?download=true")).await;
        assert_eq!(
            serde_json::from_slice::<Value>(&bytes.body).unwrap(),
            json!({"deploy": i}),
            "version {version} holds what its deploy sent"
        );
    }
    assert_eq!(
        by_version.keys().copied().collect::<Vec<_>>(),
        (1..=10).collect::<Vec<u64>>()
    );
    assert_eq!(api.get("/v1/tenants/acme").await.json()["configurationVersion"], 10);
    assert_eq!(
        versions(&api.get(DEPLOYMENTS).await.json()),
        (1..=10).rev().collect::<Vec<u64>>()
    );
    let counts = api.entity_counts().await;
    assert_eq!((counts["deployment"], counts["deploymentContent"]), (10, 10));
}

#[tokio::test]
async fn a_create_with_a_configuration_deploys_version_1_in_the_same_transaction() {
    let api = spawn_app().await;
    let body = json!({"tenantId": "acme", "name": "Acme", "configuration": {"rating": {"currency": "EUR"}}});
    api.take_requests();
    let created = api
        .send_json("POST", "/v1/tenants", &body, &[("idempotency-key", "create-acme")])
        .await;
    let requests = api.take_requests();
    let answer = status(&created, 201);
    assert_eq!(requests.get("TransactWriteItems"), Some(&1), "{requests:?}");
    assert_eq!(
        (&answer["id"], &answer["configurationVersion"]),
        (&json!("acme"), &json!(1))
    );
    assert_eq!(answer["deployment"]["version"], 1);
    assert_eq!(answer["deployment"]["result"]["keys"], json!(["rating"]));
    let download = api.get(&format!("{DEPLOYMENTS}/1?download=true")).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&download.body).unwrap(),
        json!({"rating": {"currency": "EUR"}})
    );
    // A retry with the same key answers the same, deployment included.
    let replay = api
        .send_json("POST", "/v1/tenants", &body, &[("idempotency-key", "create-acme")])
        .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(status(&replay, 201), answer);

    let before = api.scan().await.len();
    let bad = api
        .post("/v1/tenants", &json!({"name": "", "configuration": [1]}))
        .await;
    bad.problem(400);
    assert_eq!(bad.error_fields(), ["name", "configuration"], "every error listed");
    assert_eq!(api.scan().await.len(), before, "nothing written");
}

/// Runs the dev gateway's stream poller until `job` has finished; returns it.
async fn run_jobs_until_finished(api: &TestApi, job: &str) -> Value {
    let mut poller = StreamPoller::new(&api.endpoint, api.client.clone(), &api.table);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        poller.poll_once(api.app(), &[Consumer::Jobs]).await.unwrap();
        let found = status(&api.get(&format!("/v1/jobs/{job}")).await, 200);
        if found["status"] == "succeeded" || found["status"] == "failed" {
            return found;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {found}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn clone(api: &TestApi, environment: &str) -> Reply {
    api.post(
        "/v1/tenants/acme/clone",
        &json!({"environment": environment, "name": "Acme Sandbox", "tenantId": "acme-sandbox"}),
    )
    .await
}

/// Starts a clone of `acme` into `acme-sandbox`; returns its job id.
async fn clone_job(api: &TestApi, environment: &str) -> String {
    status(&clone(api, environment).await, 202)["jobId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// events/jobs-queued.json, the stream's record of job `job_id`.
fn queued_job_event(job_id: &str) -> aws_lambda_events::event::dynamodb::Event {
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/jobs-queued.json")).unwrap();
    serde_json::from_str(&sample.replace(crate::helpers::SAMPLE_JOB_ID, job_id)).unwrap()
}

#[tokio::test]
async fn a_clone_runs_end_to_end_through_the_local_stream_poller() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "tags": ["gold"], "resellerId": "r1"}))
        .await;
    status(&deploy_json(&api, "acme", &json!({"v": 1})).await, 201);
    let archive = zip(&[("config/main.json", b"{}")]);
    status(&deploy_zip(&api, &archive).await, 201);

    let started = Instant::now();
    let reply = clone(&api, "test").await;
    let accepted = status(&reply, 202);
    let job_id = accepted["jobId"].as_str().unwrap().to_owned();
    assert_eq!(reply.header("location"), Some(format!("/v1/jobs/{job_id}").as_str()));
    assert_eq!(
        (&accepted["tenantId"], &accepted["resourceCloneStatus"]),
        (&json!("acme-sandbox"), &json!("queued"))
    );
    assert_eq!(accepted["tenant"]["status"], "provisioning");
    assert_eq!(accepted["tenant"]["environment"], "test");

    // Provisioning: readable by id, in no list, not changeable.
    assert_eq!(
        api.get("/v1/tenants/acme-sandbox").await.json()["status"],
        "provisioning"
    );
    assert_eq!(api.all_names("limit=100").await, ["Acme"]);
    assert_eq!(api.all_names("tags=gold").await, ["Acme"]);
    let problem = api
        .patch("/v1/tenants/acme-sandbox", &json!({"description": "x"}), &[])
        .await
        .problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("provisioned"), "{problem}");
    deploy_json(&api, "acme-sandbox", &json!({})).await.problem(409);
    api.post("/v1/tenants/acme-sandbox/retire", &json!({}))
        .await
        .problem(409);
    api.post("/v1/tenants", &json!({"name": "Kid", "parentId": "acme-sandbox"}))
        .await
        .problem(409);
    api.post("/v1/tenants/acme-sandbox/subtenants", &json!({"name": "Team"}))
        .await
        .problem(409);
    api.post(
        "/v1/tenants/acme-sandbox/clone",
        &json!({"environment": "test", "name": "Again"}),
    )
    .await
    .problem(409);

    let job = run_jobs_until_finished(&api, &job_id).await;
    let took = started.elapsed();
    println!(
        "a clone, end to end through the local stream poller: {} ms",
        took.as_millis()
    );
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!((&job["kind"], &job["sourceVersion"]), (&json!("cloneTest"), &json!(2)));
    assert!(job["startedAt"].is_string() && job["finishedAt"].is_string());

    let target = api.get("/v1/tenants/acme-sandbox").await.json();
    assert_eq!(
        (
            &target["status"],
            &target["configurationVersion"],
            &target["clonedFrom"]
        ),
        (&json!("active"), &json!(1), &json!("acme"))
    );
    assert_eq!(
        (&target["tags"], &target["resellerId"]),
        (&json!(["gold"]), &json!("r1"))
    );
    let copy = api.get("/v1/tenants/acme-sandbox/deployments/1").await.json();
    assert_eq!(copy["clonedFrom"], json!({"tenantId": "acme", "version": 2}));
    let bytes = api.get("/v1/tenants/acme-sandbox/deployments/1?download=true").await;
    assert_eq!(
        bytes.body.as_ref(),
        archive.as_slice(),
        "the source's latest configuration"
    );
    assert_eq!(api.all_names("limit=100").await, ["Acme", "Acme Sandbox"]);
    assert_eq!(api.all_names("tags=gold").await, ["Acme", "Acme Sandbox"]);

    // The name is taken like any other.
    clone(&api, "test").await.problem(409);
}

#[tokio::test]
async fn repeated_late_and_concurrent_stream_records_run_a_job_once() {
    let api = with_acme().await;
    status(&deploy_json(&api, "acme", &json!({"v": 1})).await, 201);
    let job_id = clone_job(&api, "production").await;
    let event = queued_job_event(&job_id);
    // The same record twice in one batch, and the batch delivered by two
    // invocations at once.
    let mut doubled = event.clone();
    doubled.records.push(event.records[0].clone());
    let answers = join_all([jobs::handle(api.app(), &doubled), jobs::handle(api.app(), &doubled)]).await;
    assert!(answers.iter().all(|a| a.batch_item_failures.is_empty()));
    let target = api.get("/v1/tenants/acme-sandbox").await.json();
    assert_eq!((&target["status"], &target["version"]), (&json!("active"), &json!(2)));
    let job = api.get(&format!("/v1/jobs/{job_id}")).await.json();
    assert_eq!(job["status"], "succeeded");

    // A late record (after the job finished) changes nothing.
    let items = api.scan().await.len();
    assert!(jobs::handle(api.app(), &event).await.batch_item_failures.is_empty());
    assert_eq!(api.get("/v1/tenants/acme-sandbox").await.json()["version"], 2);
    assert_eq!(api.get(&format!("/v1/jobs/{job_id}")).await.json(), job);
    assert_eq!(api.scan().await.len(), items);
    let counts = api.entity_counts().await;
    assert_eq!((counts["deployment"], counts["job"]), (2, 1), "one copy: {counts:?}");
}

#[tokio::test]
async fn a_job_whose_source_was_deleted_fails_and_leaves_nothing_behind() {
    let api = with_acme().await;
    status(&deploy_json(&api, "acme", &json!({"v": 1})).await, 201);
    let job_id = clone_job(&api, "test").await;
    assert_eq!(api.delete("/v1/tenants/acme", &[]).await.status, 204);

    let job = run_jobs_until_finished(&api, &job_id).await;
    assert_eq!(job["status"], "failed");
    assert!(
        job["error"].as_str().unwrap().contains("'acme' no longer exists"),
        "{job}"
    );
    api.get("/v1/tenants/acme-sandbox").await.problem(404);
    assert_eq!(
        api.entity_counts().await,
        [("job".to_owned(), 1)].into(),
        "only the job's record is left"
    );
}

#[tokio::test]
async fn who_may_deploy_clone_and_follow_a_job() {
    let api = with_acme().await;
    let token = |scope: &str| format!("Bearer {}", token_for("test-admin", &["tenancy:admin"], scope));
    let body = json!({"environment": "production", "name": "Prod copy"});
    let as_ = |scope: &str, environment: &str| {
        let auth = token(scope);
        let body = json!({"environment": environment, "name": format!("Copy {environment}")});
        let api = &api;
        async move {
            let text = body.to_string();
            api.call(
                "POST",
                "/v1/tenants/acme/clone",
                Some(("application/json", text.as_bytes())),
                &[("authorization", &auth)],
            )
            .await
        }
    };
    let problem = as_("deployments:cloneTest", "production").await.problem(403);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("deployments:cloneProduction"));
    let problem = as_("deployments:cloneProduction", "test").await.problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("deployments:cloneTest"));
    as_("deployments:read deployments:write tenants:*", "test")
        .await
        .problem(403);
    let started = status(&as_("deployments:cloneTest", "test").await, 202);
    status(&as_("deployments:cloneProduction", "production").await, 202);
    let _ = body;

    // Deploys need deployments:write and an operator role; a viewer member reads.
    let viewer = token_for("vera", &[], "deployments:* tenants:*");
    status(
        &api.send_json("PUT", "/v1/tenants/acme/members/vera", &json!({"role": "viewer"}), &[])
            .await,
        201,
    );
    let auth = format!("Bearer {viewer}");
    let as_viewer = [("authorization", auth.as_str())];
    let text = json!({"a": 1}).to_string();
    let reply = api
        .call(
            "POST",
            DEPLOYMENTS,
            Some(("application/json", text.as_bytes())),
            &as_viewer,
        )
        .await;
    assert!(reply.problem(403)["detail"].as_str().unwrap().contains("viewer"));
    assert_eq!(api.call("GET", DEPLOYMENTS, None, &as_viewer).await.status, 200);
    let reply = api
        .call(
            "POST",
            DEPLOYMENTS,
            Some(("application/json", text.as_bytes())),
            &[("authorization", &token("deployments:read"))],
        )
        .await;
    assert!(reply.problem(403)["detail"]
        .as_str()
        .unwrap()
        .contains("deployments:write"));
    // A viewer of the source sees its clone jobs; a stranger does not.
    let job = format!("/v1/jobs/{}", started["jobId"].as_str().unwrap());
    assert_eq!(api.call("GET", &job, None, &as_viewer).await.status, 200);
    let stranger = format!("Bearer {}", token_for("sam", &[], "deployments:*"));
    api.call("GET", &job, None, &[("authorization", &stranger)])
        .await
        .problem(404);
    // A member who is not a platform admin cannot clone a top-level tenant.
    let text = json!({"environment": "test", "name": "Mine"}).to_string();
    api.call(
        "POST",
        "/v1/tenants/acme/clone",
        Some(("application/json", text.as_bytes())),
        &as_viewer,
    )
    .await
    .problem(403);
    api.get("/v1/jobs/not-a-uuid").await.problem(400);
    api.get("/v1/jobs/019ab000-0000-7000-8000-00000000dead")
        .await
        .problem(404);
}

#[tokio::test]
async fn a_record_the_table_cannot_serve_is_reported_alone_for_a_retry() {
    // A database that does not answer: the first record fails and is the one
    // reported (Lambda retries from it); the records after it are not run.
    let config = shared::Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("nowhere".into()),
        "DYNAMODB_ENDPOINT" => Some("http://127.0.0.1:9".into()),
        "CURSOR_SECRET" => Some("test-cursor-secret-0123456789".into()),
        _ => None,
    })
    .unwrap();
    let app = shared::App::new(config, shared::store::local_client("http://127.0.0.1:9"));
    let mut event = queued_job_event(crate::helpers::SAMPLE_JOB_ID);
    let mut second = event.records[0].clone();
    second.change.sequence_number = Some("222200000000000000000002".into());
    event.records.push(second);
    let response = jobs::handle(&app, &event).await;
    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [Some("111100000000000000000001".to_owned())]);
}

#[tokio::test]
async fn deleting_a_clone_before_its_job_runs_fails_the_job() {
    let api = with_acme().await;
    let job_id = clone_job(&api, "test").await;
    assert_eq!(api.delete("/v1/tenants/acme-sandbox", &[]).await.status, 204);
    let job = run_jobs_until_finished(&api, &job_id).await;
    assert_eq!(job["status"], "failed");
    assert!(job["error"].as_str().unwrap().contains("deleted"), "{job}");
    api.get("/v1/tenants/acme-sandbox").await.problem(404);
    assert_eq!(api.get("/v1/tenants/acme").await.status, 200, "the source is untouched");
}

#[tokio::test]
async fn a_tenant_id_taken_again_starts_its_own_versions_and_jobs() {
    let api = with_acme().await;
    // What an earlier tenant with this id left, its deletion not done yet.
    let old = shared::domain::Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
    let stale = shared::domain::deployment::Configuration::json(b"{\"old\": true}".to_vec()).unwrap();
    let deployment = shared::domain::deployment::Deployment::of(
        &shared::domain::TenantId::parse("acme").unwrap(),
        1,
        &stale,
        old,
        "someone",
        None,
    );
    let item = shared::store::records::deployment_item(&deployment, old).unwrap();
    api.client
        .put_item()
        .table_name(&api.table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let v1 = status(&deploy_json(&api, "acme", &json!({"new": true})).await, 201);
    assert_eq!((&v1["version"], &v1["createdBy"]), (&json!(1), &json!("test-admin")));
    assert_eq!(
        api.get(&format!("{DEPLOYMENTS}/1")).await.json()["sha256"],
        v1["sha256"]
    );

    // A clone whose source is deleted and created again before the job runs
    // does not copy the newcomer.
    let job_id = clone_job(&api, "test").await;
    assert_eq!(api.delete("/v1/tenants/acme", &[]).await.status, 204);
    api.create_tenant(json!({"tenantId": "acme", "name": "Another Acme"}))
        .await;
    let job = run_jobs_until_finished(&api, &job_id).await;
    assert_eq!(job["status"], "failed");
    assert!(job["error"].as_str().unwrap().contains("newer tenant"), "{job}");
    api.get("/v1/tenants/acme-sandbox").await.problem(404);
}

#[tokio::test]
async fn the_clean_up_finishes_a_job_whose_stream_records_were_given_up() {
    let api = with_acme().await;
    status(&deploy_json(&api, "acme", &json!({"v": 1})).await, 201);
    let job_id = clone_job(&api, "test").await;
    // Nothing polls the stream here: as if every delivery had failed.
    let run_at = |minutes: i64| shared::service::cleanup::Run {
        dry_run: false,
        tenant_ids: None,
        now: shared::domain::Timestamp::now().plus(time::Duration::minutes(minutes)),
        retention_days: 30,
        stop_at: Instant::now() + Duration::from_secs(60),
    };
    let store = &api.app().store;
    let early = shared::service::cleanup::run(store, &run_at(10)).await.unwrap();
    assert_eq!(early.jobs_finished, 0, "a young job is the stream's to run");
    assert_eq!(api.get(&format!("/v1/jobs/{job_id}")).await.json()["status"], "queued");
    let late = shared::service::cleanup::run(store, &run_at(120)).await.unwrap();
    assert_eq!(late.jobs_finished, 1);
    assert_eq!(
        api.get(&format!("/v1/jobs/{job_id}")).await.json()["status"],
        "succeeded"
    );
    assert_eq!(api.get("/v1/tenants/acme-sandbox").await.json()["status"], "active");
    let again = shared::service::cleanup::run(store, &run_at(120)).await.unwrap();
    assert_eq!(again.jobs_finished, 0, "a finished job leaves the list");
}

/// A tenant admin may clone: the request names the clone's `parentId`
/// (default: beside its source), and it is authorised as a create there.
/// The cloner ends up admin of the clone: by the admin role above it, or,
/// at the top, as its admin member.
#[tokio::test]
async fn a_tenant_admin_clones_where_it_may_create_and_administers_the_clone() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "parent", "name": "Parent"})).await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme", "parentId": "parent"}))
        .await;
    status(&deploy_json(&api, "acme", &json!({"v": 1})).await, 201);
    for (user, role) in [("alice", "admin"), ("olga", "operator")] {
        let path = format!("/v1/tenants/acme/members/{user}");
        assert_eq!(
            api.send_json("PUT", &path, &json!({"role": role}), &[]).await.status,
            201
        );
    }
    let as_user = |user: &str| format!("Bearer {}", token_for(user, &[], "tenants:* deployments:*"));
    let clone_as = |user: &str, body: Value| {
        let auth = as_user(user);
        let api = &api;
        async move {
            api.send_json(
                "POST",
                "/v1/tenants/acme/clone",
                &body,
                &[("authorization", auth.as_str())],
            )
            .await
        }
    };

    // Beside the source (under `parent`): alice is no admin there.
    let reply = clone_as("alice", json!({"environment": "test", "name": "Acme Test"})).await;
    assert_eq!(reply.code(403), "role_too_low");
    // At the top: only a platform admin (or the creator role).
    let body = json!({"environment": "test", "name": "Acme Test", "parentId": null});
    assert_eq!(clone_as("alice", body).await.code(403), "platform_admin_required");
    // Under a tenant she cannot see: as if it did not exist.
    let body = json!({"environment": "test", "name": "Acme Test", "parentId": "parent-of-nobody"});
    let reply = clone_as("alice", body).await;
    assert_eq!(reply.code(400), "validation_failed");
    assert_eq!(reply.error_fields(), ["parentId"]);
    // An operator of the source may not create under it.
    let body = json!({"environment": "test", "name": "Acme Test", "parentId": "acme"});
    assert_eq!(clone_as("olga", body).await.code(403), "role_too_low");

    // Under the source itself, where she is admin: accepted.
    let body = json!({"environment": "test", "name": "Acme Test", "parentId": "acme", "tenantId": "acme-test"});
    let reply = clone_as("alice", body).await;
    assert_eq!(reply.status, 202, "{}", String::from_utf8_lossy(&reply.body));
    let clone = api.get("/v1/tenants/acme-test").await.json();
    assert_eq!(
        (clone["parentId"].as_str(), clone["clonedFrom"].as_str()),
        (Some("acme"), Some("acme"))
    );
    let auth = as_user("alice");
    let mine = api
        .call("GET", "/v1/tenants/mine", None, &[("authorization", auth.as_str())])
        .await
        .json();
    let role_of = |id: &str| {
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .map(|t| t["role"].clone())
    };
    assert_eq!(role_of("acme"), Some(json!("admin")), "{mine}");
    // Admin of the clone by her role above it: no second membership.
    let members = api.get("/v1/tenants/acme-test/members").await.json();
    assert_eq!(members["items"].as_array().map(Vec::len), Some(0), "{members}");
    let auth = as_user("alice");
    let reply = api
        .patch(
            "/v1/tenants/acme-test",
            &json!({"description": "mine"}),
            &[("authorization", auth.as_str())],
        )
        .await;
    // Provisioning until its job has run; once it has, alice changes it.
    if reply.status == 409 {
        assert_eq!(reply.code(409), "tenant_provisioning");
    } else {
        assert_eq!(reply.status, 200);
    }

    // The creator role clones to the top and becomes the clone's admin member.
    let creator = format!(
        "Bearer {}",
        token_for("onboarding", &["tenancy:creator"], "tenants:* deployments:*")
    );
    let path = "/v1/tenants/acme/members/onboarding";
    assert_eq!(
        api.send_json("PUT", path, &json!({"role": "viewer"}), &[]).await.status,
        201
    );
    let body = json!({"environment": "test", "name": "Acme Top", "parentId": null, "tenantId": "acme-top"});
    let reply = api
        .send_json(
            "POST",
            "/v1/tenants/acme/clone",
            &body,
            &[("authorization", creator.as_str())],
        )
        .await;
    assert_eq!(reply.status, 202, "{}", String::from_utf8_lossy(&reply.body));
    let top = api.get("/v1/tenants/acme-top").await.json();
    assert_eq!(top["parentId"], Value::Null);
    let member = api.get("/v1/tenants/acme-top/members/onboarding").await;
    assert_eq!(member.json()["role"], "admin");
}
