//! The events feed's storage: recorded once per event id, served in order,
//! only once settled, with no gap however it is paged.

use serde_json::json;
use shared::domain::events::{ChangeEvent, EventKind};
use shared::domain::{TenantId, Timestamp};

use crate::helpers::{spawn_app, TestApi};

fn event(i: usize) -> ChangeEvent {
    let subject = TenantId::parse(if i.is_multiple_of(2) { "even" } else { "odd" }).unwrap();
    ChangeEvent {
        id: format!("record-{i:03}"),
        kind: EventKind::TenantUpdated,
        subject: subject.clone(),
        path: Some(vec![subject]),
        time: Timestamp::now(),
        data: json!({"n": i}),
    }
}

#[tokio::test]
async fn events_are_recorded_once_and_paged_in_order_without_gaps() {
    let api = spawn_app().await;
    let store = &api.app().store;
    let base = Timestamp::now();
    let at = |ms: i64| base.plus(time::Duration::milliseconds(ms));
    for i in 0..30 {
        let e = event(i);
        let path = e.path.clone().unwrap();
        assert!(store.record_change_event(&e, &path, at(i as i64 * 3)).await.unwrap());
    }
    // A redelivered record adds nothing.
    let again = event(4);
    assert!(!store
        .record_change_event(&again, &again.path.clone().unwrap(), at(500))
        .await
        .unwrap());
    assert_eq!(api.entity_counts().await.get("changeEvent"), Some(&30));

    // Not yet settled: nothing is served.
    let young = store.feed_page(None, at(1_000), 10, |_| true).await.unwrap();
    assert!(young.events.is_empty() && !young.more);
    let position = young.position;
    // Settled: every event, in order, whatever the page size; and the last
    // position stays good for polling.
    let later = at(60_000);
    for limit in [1, 7, 30, 100] {
        let (mut seen, mut from) = (Vec::new(), Some(position.clone()));
        loop {
            let page = store.feed_page(from.as_ref(), later, limit, |_| true).await.unwrap();
            seen.extend(page.events.iter().map(|e| e.event["id"].as_str().unwrap().to_owned()));
            from = Some(page.position);
            if !page.more {
                break;
            }
        }
        let expected: Vec<String> = (0..30).map(|i| format!("record-{i:03}")).collect();
        assert_eq!(seen, expected, "pages of {limit}");
    }
    // A filter keeps what it keeps, still in order.
    let odd = store
        .feed_page(None, later, 100, |e| e.path.iter().any(|id| id == "odd"))
        .await
        .unwrap()
        .events;
    assert_eq!(odd.len(), 15);
    assert!(odd
        .iter()
        .all(|e| e.subject == "odd" && e.event["type"] == "io.tenancy.tenant.updated"));
}

/// Records an event about `subject` (on `path`) as if `ago` seconds old.
async fn recorded(api: &crate::helpers::TestApi, i: usize, path: &[&str], ago: i64) {
    let ids: Vec<TenantId> = path.iter().map(|id| TenantId::parse(id).unwrap()).collect();
    let e = ChangeEvent {
        id: format!("r-{i:04}"),
        kind: if i.is_multiple_of(3) {
            EventKind::MemberAdded
        } else {
            EventKind::TenantUpdated
        },
        subject: ids.last().unwrap().clone(),
        path: Some(ids.clone()),
        time: Timestamp::now(),
        data: json!({"n": i}),
    };
    let at = Timestamp::now().plus(time::Duration::seconds(-ago));
    api.app().store.record_change_event(&e, &ids, at).await.unwrap();
}

fn ids_of(page: &serde_json::Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_feed_shows_each_caller_what_it_may_see_and_filters_by_type() {
    let api = crate::helpers::spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.create_tenant(json!({"tenantId": "acme-eu", "name": "Acme EU", "parentId": "acme"}))
        .await;
    api.create_tenant(json!({"tenantId": "globex", "name": "Globex"})).await;
    let member = api
        .send_json("PUT", "/v1/tenants/acme/members/alice", &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(member.status, 201);
    for (i, path) in [
        &["acme"][..],
        &["acme", "acme-eu"],
        &["globex"],
        &["acme"],
        &["globex"],
        &["acme", "acme-eu"],
    ]
    .iter()
    .enumerate()
    {
        recorded(&api, i, path, 60).await;
    }
    api.take_requests();
    let admin = api.get("/v1/events?limit=100").await;
    let from_the_start = api.take_requests();
    assert_eq!(admin.status, 200, "{}", String::from_utf8_lossy(&admin.body));
    let cursor = admin.json()["nextCursor"].as_str().unwrap().to_owned();
    let next = api.get(&format!("/v1/events?cursor={cursor}")).await;
    let following = api.take_requests();
    // `after`, the feed's first name for its cursor, is the same parameter.
    let alias = api.get(&format!("/v1/events?after={cursor}")).await;
    assert_eq!((next.status, alias.status), (200, 200));
    assert_eq!(next.json()["items"], alias.json()["items"]);
    // A reader that follows its cursor reads today's partition: one Query.
    assert_eq!(following, [("Query".to_owned(), 1)].into());
    println!(
        "feed page: from the start {from_the_start:?} (a partition per day kept); following a cursor {following:?}"
    );
    assert_eq!(
        ids_of(&admin.json()),
        ["r-0000", "r-0001", "r-0002", "r-0003", "r-0004", "r-0005"]
    );
    assert!(admin.json()["nextCursor"].is_string());

    let alice = crate::helpers::token_for("alice", &[], crate::helpers::ADMIN_SCOPE);
    let auth = format!("Bearer {alice}");
    let seen = api
        .call("GET", "/v1/events?limit=100", None, &[("authorization", &auth)])
        .await;
    assert_eq!(
        ids_of(&seen.json()),
        ["r-0000", "r-0001", "r-0003", "r-0005"],
        "never Globex's"
    );
    let stranger = crate::helpers::token_for("mallory", &[], crate::helpers::ADMIN_SCOPE);
    let auth = format!("Bearer {stranger}");
    let none = api.call("GET", "/v1/events", None, &[("authorization", &auth)]).await;
    assert_eq!(ids_of(&none.json()), Vec::<String>::new());

    let members = api.get("/v1/events?types=io.tenancy.member.*").await.json();
    assert_eq!(ids_of(&members), ["r-0000", "r-0003"]);
    let both = api.get("/v1/events?types=member.added,tenant.updated").await.json();
    assert_eq!(ids_of(&both).len(), 6);

    // A filter that skips most of what it reads still pages (several Queries).
    let mut seen = Vec::new();
    let mut after = String::new();
    for _ in 0..10 {
        let page = api.get(&format!("/v1/events?types=member.added&limit=1{after}")).await;
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let page = page.json();
        seen.extend(ids_of(&page));
        after = format!("&cursor={}", page["nextCursor"].as_str().unwrap());
        if page["hasMore"] != true {
            break;
        }
    }
    assert_eq!(seen, ["r-0000", "r-0003"]);

    let bad = api
        .get("/v1/events?types=tenant.exploded,nothing.*&limit=0&after=forged")
        .await;
    bad.problem(400);
    assert_eq!(bad.error_fields(), ["limit", "after", "types", "types"]);
    let bad = api.get("/v1/events?cursor=forged").await;
    bad.problem(400);
    assert_eq!(bad.error_fields(), ["cursor"]);
    let both = api.get(&format!("/v1/events?cursor={cursor}&after={cursor}")).await;
    both.problem(400);
    assert_eq!(both.error_fields(), ["after"]);
    api.get("/v1/events?types=").await.problem(400);
    api.get("/v1/events?types=tenant.*,").await.problem(400);
}

#[tokio::test]
async fn the_feed_pages_in_order_without_gaps_while_writes_go_on() {
    let api = std::sync::Arc::new(crate::helpers::spawn_app().await);
    let writer = {
        let api = api.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                recorded(&api, i, &["acme"], 0).await;
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let started = std::time::Instant::now();
    while seen.len() < 60 && started.elapsed() < std::time::Duration::from_secs(30) {
        let path = match &after {
            Some(cursor) => format!("/v1/events?limit=7&cursor={cursor}"),
            None => "/v1/events?limit=7".to_owned(),
        };
        let page = api.get(&path).await;
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let page = page.json();
        seen.extend(ids_of(&page));
        after = Some(page["nextCursor"].as_str().unwrap().to_owned());
        if page["hasMore"] != true {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
    writer.await.unwrap();
    let expected: Vec<String> = (0..60).map(|i| format!("r-{i:04}")).collect();
    assert_eq!(
        seen, expected,
        "every event once, in order, though the reader ran beside the writer"
    );
}

/// Issue 18, item 7f: a first page without a cursor reads where the events
/// are, not every day partition of the 30 kept.
#[tokio::test]
async fn the_first_page_without_a_cursor_reads_only_days_with_events() {
    let api = crate::helpers::spawn_app().await;
    api.create_tenant(json!({"tenantId": "acme", "name": "Acme"})).await;
    api.take_requests();
    let empty = api.get("/v1/events").await;
    assert_eq!(empty.status, 200);
    let empty_feed = api.take_requests();
    assert_eq!(
        (ids_of(&empty.json()), &empty.json()["hasMore"]),
        (Vec::<String>::new(), &json!(false))
    );
    println!("first feed page of an empty feed: {empty_feed:?}");
    assert!(empty_feed.get("Query").copied().unwrap_or(0) <= 1, "{empty_feed:?}");
    let polling_cursor = empty.json()["nextCursor"].as_str().unwrap().to_owned();

    // Two events twenty days ago, one three days ago, three a minute ago:
    // of the 31 day partitions kept, three hold events.
    let day = 24 * 3600;
    for (i, (path, ago)) in [
        (&["acme"][..], 20 * day),
        (&["globex"], 20 * day - 60),
        (&["acme"], 3 * day),
        (&["globex"], 60),
        (&["acme"], 59),
        (&["acme"], 58),
    ]
    .iter()
    .enumerate()
    {
        recorded(&api, i, path, *ago).await;
    }
    api.take_requests();
    let first = api.get("/v1/events?limit=2").await;
    let requests = api.take_requests();
    assert_eq!(first.status, 200, "{}", String::from_utf8_lossy(&first.body));
    println!("first feed page (2 events, the oldest day fills it): {requests:?}");
    let first = first.json();
    assert_eq!(
        (ids_of(&first), &first["hasMore"]),
        (vec!["r-0000".to_owned(), "r-0001".to_owned()], &json!(true))
    );
    assert!(
        requests.get("Query").copied().unwrap_or(0) <= 2,
        "one or two Queries: {requests:?}"
    );
    assert_eq!(
        requests.values().sum::<u64>(),
        requests.get("Query").copied().unwrap_or(0),
        "{requests:?}"
    );

    // From there on, every event once and in order, whatever the page size.
    for limit in [1, 2, 4, 25] {
        let (mut seen, mut cursor, mut queries) = (Vec::new(), None::<String>, Vec::new());
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/events?limit={limit}&cursor={c}"),
                None => format!("/v1/events?limit={limit}"),
            };
            let page = api.get(&path).await.json();
            queries.push(api.take_requests().get("Query").copied().unwrap_or(0));
            seen.extend(ids_of(&page));
            cursor = page["nextCursor"].as_str().map(str::to_owned);
            if page["hasMore"] != true {
                break;
            }
        }
        let expected: Vec<String> = (0..6).map(|i| format!("r-{i:04}")).collect();
        assert_eq!(seen, expected, "pages of {limit}");
        println!("feed pages of {limit}: Queries per page {queries:?}");
        assert!(queries.iter().all(|q| *q <= 4), "pages of {limit}: {queries:?}");
    }
    let whole = api.get("/v1/events").await;
    let requests = api.take_requests();
    println!("first feed page (25, three days with events): {requests:?}");
    assert_eq!(ids_of(&whole.json()).len(), 6);
    assert!(requests.get("Query").copied().unwrap_or(0) <= 4, "{requests:?}");

    // The cursor handed out by the empty feed goes on to every event.
    let polled = api.get(&format!("/v1/events?cursor={polling_cursor}")).await.json();
    assert_eq!(
        ids_of(&polled),
        ["r-0003", "r-0004", "r-0005"],
        "recorded after it, today"
    );

    // The visibility rules hold: a viewer of acme reads acme's events only.
    let member = api
        .send_json("PUT", "/v1/tenants/acme/members/alice", &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(member.status, 201);
    let alice = format!(
        "Bearer {}",
        crate::helpers::token_for("alice", &[], crate::helpers::ADMIN_SCOPE)
    );
    api.take_requests();
    let seen = api
        .call("GET", "/v1/events?limit=2", None, &[("authorization", &alice)])
        .await
        .json();
    let requests = api.take_requests();
    println!("first feed page of a viewer: {requests:?}");
    assert_eq!(ids_of(&seen), ["r-0000", "r-0002"], "never Globex's");
}

/// Issue 18, item 7f, upgrading: events recorded before days were marked
/// are skipped by a reader starting afresh; the invariant check lists each
/// such day, and `mark_feed_days` (`make check-table ARGS=--mark-feed-days`)
/// marks them, after which the first page finds them again.
#[tokio::test]
async fn days_recorded_before_marks_are_listed_and_marked_by_the_migration() {
    let api = spawn_app().await;
    let day = 24 * 3600;
    for (i, ago) in [20 * day, 3 * day, 60].into_iter().enumerate() {
        recorded(&api, i, &["acme"], ago).await;
    }
    // As a table written before marks: none.
    let marks = api
        .client
        .query()
        .table_name(&api.table)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(shared::store::keys::FEED_DAYS.into()),
        )
        .send()
        .await
        .unwrap();
    let marks = marks.items.unwrap_or_default();
    assert_eq!(marks.len(), 3, "one mark per day with events");
    for mark in marks {
        api.delete_item(&TestApi::key_of(&mark)).await;
    }
    assert_eq!(ids_of(&api.get("/v1/events").await.json()), Vec::<String>::new());
    let store = &api.app().store;
    let found: Vec<String> = store
        .check_invariants()
        .await
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found
            .iter()
            .all(|f| f.contains("has events but no mark") && f.contains("--mark-feed-days")),
        "{found:?}"
    );

    let marked = store.mark_feed_days().await.unwrap();
    assert_eq!(marked.len(), 3, "{marked:?}");
    assert_eq!(store.check_invariants().await.unwrap(), vec![]);
    assert_eq!(
        ids_of(&api.get("/v1/events").await.json()),
        ["r-0000", "r-0001", "r-0002"]
    );
    assert_eq!(
        store.mark_feed_days().await.unwrap(),
        Vec::<String>::new(),
        "nothing left to mark"
    );
}
