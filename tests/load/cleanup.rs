//! The clean-up at size: 2,000 retired tenants of 20 items each, purged over
//! several runs cut short by their deadline; then nothing left to do.

use std::time::{Duration, Instant};

use dev_gateway::dataset;
use shared::domain::Timestamp;
use shared::service::cleanup::{self, Run};

use crate::helpers::{spawn_app_without_stream, Item, TestApi};

const TENANTS: usize = 2_000;

async fn seed(api: &TestApi, retired_at: Timestamp) {
    let items: Vec<Item> = (0..TENANTS)
        .flat_map(|i| dataset::retired_items(i, retired_at))
        .collect();
    crate::seed_items(api, &items).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_retired_tenants_are_purged_across_deadline_limited_runs() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let api = spawn_app_without_stream().await;
    // Retired 45 days ago, purged now: the tombstones expire in 30 days, so
    // DynamoDB Local's TTL sweeper (which would delete expired ones under
    // the next tests' feet) leaves them alone.
    let retired_at = Timestamp::now().plus(time::Duration::days(-45));
    seed(&api, retired_at).await;
    let now = Timestamp::now();
    api.take_requests();

    let started = Instant::now();
    let (mut runs, mut purged, mut deleted) = (0, 0, 0);
    loop {
        runs += 1;
        assert!(runs < 200, "the clean-up does not finish");
        let run = Run {
            dry_run: false,
            tenant_ids: None,
            now,
            retention_days: 30,
            stop_at: Instant::now() + Duration::from_secs(4),
        };
        let summary = cleanup::run(&api.app().store, &run).await.unwrap();
        purged += summary.purged.len();
        deleted += summary.items_deleted;
        if !summary.stopped_early {
            break;
        }
    }
    let took = started.elapsed();
    let requests = api.take_requests();
    let total_requests: u64 = requests.values().sum();
    println!(
        "cleanup: {purged} tenants, {deleted} items in {runs} runs, {:.1} s: {:.0} items/s, {:.1} DynamoDB requests per tenant {requests:?}",
        took.as_secs_f64(),
        deleted as f64 / took.as_secs_f64(),
        total_requests as f64 / purged as f64
    );
    assert!(runs > 1, "the deadline cut runs short");
    assert_eq!(purged, TENANTS);
    assert_eq!(deleted as usize, TENANTS * dataset::RETIRED_TENANT_ITEMS);
    let counts = api.entity_counts().await;
    // A purge leaves its tombstone under the id and its mark under the name
    // (what a by-name lookup answers 410 from), both expiring together.
    assert_eq!(
        counts,
        [("purgedName".to_owned(), TENANTS), ("tombstone".to_owned(), TENANTS)].into(),
        "only tombstones and purged names' marks are left"
    );
    let run = Run {
        dry_run: false,
        tenant_ids: None,
        now,
        retention_days: 30,
        stop_at: Instant::now() + Duration::from_secs(60),
    };
    let again = cleanup::run(&api.app().store, &run).await.unwrap();
    assert_eq!(
        (again.candidates, again.purged.len(), again.stopped_early),
        (0, 0, false),
        "a second run finds nothing"
    );
}
