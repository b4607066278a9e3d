//! The clean-up at size: 2,000 retired tenants of 20 items each, purged over
//! several runs cut short by their deadline; then nothing left to do.

use std::time::{Duration, Instant};

use shared::auth::TenantRole;
use shared::domain::audit::{Action, AuditEvent};
use shared::domain::member::Member;
use shared::domain::tenant::{Change, InputMode};
use shared::domain::{Tenant, TenantId, TenantInput, Timestamp, UserId};
use shared::service::cleanup::{self, Run};
use shared::store::records;

use crate::helpers::{spawn_app_without_stream, Item, TestApi};

const TENANTS: usize = 2_000;

/// A retired tenant and its 19 other items: name guard, 10 facets (5 tags,
/// 4 external ids, its subtree), 3 members, 5 history events.
fn tenant_items(i: usize, retired_at: Timestamp) -> Vec<Item> {
    let body = serde_json::json!({
        "tenantId": format!("old-{i:05}"), "name": format!("Old {i:05}"),
        "tags": ["a", "b", "c", "d", "e"], "externalIds": {"1": format!("x{i}"), "2": "y", "3": "z", "4": "w"},
    });
    let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
    let change = Change {
        actor: "seed".into(),
        at: retired_at,
    };
    let tenant = Tenant::create(input, TenantId::parse(&format!("old-{i:05}")).unwrap(), &change);
    let tenant = tenant.retired(Some("seed".into()), &change).unwrap();
    let mut items = vec![
        records::tenant_item(&tenant, 1).unwrap(),
        records::name_guard_item(&tenant.name.key(), &tenant.id),
    ];
    items.extend(records::facet_items(&tenant).into_iter().map(|(_, item)| item));
    for user in ["u1", "u2", "u3"] {
        let member = Member {
            tenant_id: tenant.id.clone(),
            user_id: UserId::parse(user).unwrap(),
            role: TenantRole::Viewer,
            added_at: retired_at,
            added_by: "seed".into(),
        };
        items.push(records::member_item(&member, tenant.created_at).unwrap());
    }
    for version in 1..=5 {
        let event = AuditEvent {
            version,
            action: Action::Updated,
            ..AuditEvent::of(None, &tenant)
        };
        items.push(records::event_item(&event, tenant.created_at).unwrap());
    }
    assert_eq!(items.len(), 20);
    items
}

async fn seed(api: &TestApi, retired_at: Timestamp) {
    let items: Vec<Item> = (0..TENANTS).flat_map(|i| tenant_items(i, retired_at)).collect();
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
    assert_eq!(deleted as usize, TENANTS * 20);
    let counts = api.entity_counts().await;
    assert_eq!(
        counts,
        [("tombstone".to_owned(), TENANTS)].into(),
        "only tombstones are left"
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
