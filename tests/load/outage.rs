//! DynamoDB stopped in the middle of a stream of writes, then started again
//! on its data (`-dbPath`): every request either fully happened or fully did
//! not, its client was told honestly (2xx: it happened; 503 with
//! `Retry-After`: it may not have), nothing answered 500, and the table's
//! invariants hold (checked as the test app is dropped).

use std::sync::Arc;
use std::time::{Duration, Instant};

use dev_gateway::dynamodb_local::{free_port, DynamoDbLocal, Options};
use serde_json::json;

use crate::helpers::{spawn_app_on, TestApi};

const WRITERS: usize = 8;
const WRITES_PER_WRITER: usize = 40;

/// (tenant id, status of its create, status of its later rename).
type Outcome = (String, u16, Option<u16>);

async fn writer(api: Arc<TestApi>, writer: usize) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for n in 0..WRITES_PER_WRITER {
        let id = format!("w{writer}-{n:03}");
        let body = json!({"tenantId": id, "name": format!("Writer {writer} number {n}"), "tags": ["outage"], "externalIds": {"crm": id}});
        let created = api.post("/v1/tenants", &body).await;
        check_honest(&created, "create");
        let renamed = if created.status == 201 {
            let reply = api
                .patch(
                    &format!("/v1/tenants/{id}"),
                    &json!({"name": format!("Renamed {writer} {n}")}),
                    &[],
                )
                .await;
            check_honest(&reply, "rename");
            Some(reply.status)
        } else {
            None
        };
        outcomes.push((id, created.status, renamed));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    outcomes
}

/// 2xx, or 503 with `Retry-After` and a problem; never anything else.
fn check_honest(reply: &crate::helpers::Reply, what: &str) {
    match reply.status {
        200 | 201 => {}
        503 => {
            assert!(reply.header("retry-after").is_some(), "{what}: 503 without Retry-After");
            assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        }
        other => panic!("{what}: {other} {}", String::from_utf8_lossy(&reply.body)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_through_a_database_restart_are_whole_or_absent() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let data = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("outage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port().unwrap();
    let options = || Options {
        port: Some(port),
        data_dir: Some(data.clone()),
    };
    let mut local = DynamoDbLocal::start(options()).expect("DynamoDB Local starts");
    let api = Arc::new(spawn_app_on(&local.endpoint).await);

    let writers: Vec<_> = (0..WRITERS).map(|w| tokio::spawn(writer(api.clone(), w))).collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stopped_at = Instant::now();
    local.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    local = DynamoDbLocal::start(options()).expect("DynamoDB Local starts again on its data");
    let outage = stopped_at.elapsed();

    let mut outcomes = Vec::new();
    for handle in writers {
        outcomes.extend(handle.await.unwrap());
    }
    let count = |status: u16| outcomes.iter().filter(|(_, s, _)| *s == status).count();
    println!(
        "\noutage of {:.1} s: {} creates: {} answered 201, {} answered 503",
        outage.as_secs_f64(),
        outcomes.len(),
        count(201),
        count(503)
    );
    assert!(count(503) > 0, "the outage was seen");
    assert!(count(201) > 0, "writes went on around it");

    // Whole or absent: an acknowledged create is there (renamed if that was
    // acknowledged too); a 503 left either the whole tenant or nothing, which
    // the invariant check (name guard, facets, indexes) proves on drop.
    for (id, created, renamed) in &outcomes {
        let reply = api.get(&format!("/v1/tenants/{id}")).await;
        match created {
            201 => {
                assert_eq!(reply.status, 200, "{id} was acknowledged but is gone");
                let name = reply.json()["name"].as_str().unwrap().to_owned();
                if *renamed == Some(200) {
                    assert!(name.starts_with("Renamed"), "{id}: an acknowledged rename was lost");
                }
            }
            _ => assert!(matches!(reply.status, 200 | 404), "{id}: {}", reply.status),
        }
    }
    let violations = api.app().store.check_invariants().await.unwrap();
    assert!(violations.is_empty(), "{violations:#?}");
    drop(api);
    local.stop();
    let _ = std::fs::remove_dir_all(&data);
}
