//! The events feed's storage: recorded once per event id, served in order,
//! only once settled, with no gap however it is paged.

use serde_json::json;
use shared::domain::events::{ChangeEvent, EventKind};
use shared::domain::{TenantId, Timestamp};
use shared::store::feed::{FeedEvent, FeedPosition};

use crate::helpers::{spawn_app, spawn_app_with_faults, Faults, TestApi};

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
        let seen = every_store_page(store, Some(position.clone()), later, limit, |_| true).await;
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

/// The event ids of the store's feed pages of `limit` from `from` at `now`
/// that `keep` keeps, followed to the end.
async fn every_store_page(
    store: &shared::store::Store,
    mut from: Option<FeedPosition>,
    now: Timestamp,
    limit: usize,
    keep: impl Fn(&FeedEvent) -> bool + Copy,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let page = store.feed_page(from.as_ref(), now, limit, keep).await.unwrap();
        seen.extend(page.events.iter().map(|e| e.event["id"].as_str().unwrap().to_owned()));
        from = Some(page.position);
        if !page.more {
            return seen;
        }
    }
}

/// The event ids of `query`'s pages (at most `pages` of them), following
/// `nextCursor` while `hasMore`; and the last `&cursor=…` (to poll from).
async fn every_page(api: &TestApi, query: &str, pages: usize) -> (Vec<String>, String) {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..pages {
        let page = api.get(&format!("{query}{cursor}")).await;
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let page = page.json();
        seen.extend(ids_of(&page));
        cursor = format!("&cursor={}", page["nextCursor"].as_str().unwrap());
        if page["hasMore"] != true {
            break;
        }
    }
    (seen, cursor)
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
    // A reader that follows its cursor reads today's partition: one Query
    // per shard (issue 23; it was one Query before the feed was sharded).
    let shards = u64::from(shared::store::keys::FEED_SHARDS);
    assert_eq!(following, [("Query".to_owned(), shards)].into());
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
    let (seen, _) = every_page(&api, "/v1/events?types=member.added&limit=1", 10).await;
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
    // The marks, and one Query per shard of the first day (issue 23: the
    // day's one partition before).
    let shards = u64::from(shared::store::keys::FEED_SHARDS);
    assert!(
        requests.get("Query").copied().unwrap_or(0) <= 1 + shards,
        "the marks and a day's shards: {requests:?}"
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
        assert!(
            queries.iter().all(|q| *q <= 1 + 3 * shards),
            "pages of {limit}: {queries:?}"
        );
    }
    let whole = api.get("/v1/events").await;
    let requests = api.take_requests();
    println!("first feed page (25, three days with events): {requests:?}");
    assert_eq!(ids_of(&whole.json()).len(), 6);
    assert!(
        requests.get("Query").copied().unwrap_or(0) <= 1 + 3 * shards,
        "{requests:?}"
    );

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

/// The stored size of `item` by DynamoDB's rules (attribute names and
/// values), as far as the feed's items go: strings, numbers, lists.
fn item_size(item: &shared::store::records::Item) -> usize {
    fn value_size(value: &aws_sdk_dynamodb::types::AttributeValue) -> usize {
        use aws_sdk_dynamodb::types::AttributeValue as V;
        match value {
            V::S(s) => s.len(),
            V::N(n) => n.len().div_ceil(2) + 1,
            V::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
            V::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
            V::Bool(_) | V::Null(_) => 1,
            other => panic!("not a feed attribute: {other:?}"),
        }
    }
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

/// Issue 23: the write load of a feed shard is events/s × WCU per event /
/// `FEED_SHARDS`, and `keys::FEED_SHARDS` was chosen assuming an event item
/// of at most 2 KB (4 WCU in its transaction). Measured here on the events
/// the notifier really records: a PATCH of a tenant shaped like the load
/// test's, and of one with a full profile.
#[tokio::test]
async fn a_feed_event_costs_what_the_shard_count_assumes() {
    use shared::store::{keys, records};
    let api = spawn_app().await;
    let store = &api.app().store;
    let small = json!({"tenantId": "client-0-tenant-17", "name": "Client 0 tenant 17", "tags": ["load"]});
    let full = json!({
        "tenantId": "acme-industries-emea", "name": "Acme Industries EMEA", "description": "The EMEA arm of Acme Industries, billed monthly",
        "type": "ServiceProvider", "environment": "production",
        "tags": ["gold", "emea", "manufacturing", "priority", "sso", "audited", "eu-data", "annual", "reseller", "pilot"],
        "businessAccount": "BA-100234", "defaultDomain": "emea.acme-industries.example",
        "supportEmail": "support@emea.acme-industries.example",
        "contactInformation": {"name": "Ann Example", "email": "ann.example@acme-industries.example", "phoneNumber": "+32 9 555 01 00"},
        "addressInformation": {"addressLine1": "1 Industrial Way", "addressLine2": "Building 4, Floor 2", "city": "Gent", "stateOrProvince": "Oost-Vlaanderen", "zipOrPostalCode": "9000", "country": "BE"},
        "resellerId": "reseller-eu-1", "externalIds": {"1": "crm-0012345", "2": "erp-998877", "3": "billing-42", "4": "legacy-7"},
        "settings": {"useTenantLanguages": true, "useCustomRoutingProfile": true},
        "metadata": (0..10).map(|i| (format!("key{i}"), json!(format!("value number {i}")))).collect::<serde_json::Map<_, _>>()
    });
    let mut measured = Vec::new();
    for (shape, body) in [("load test", small), ("full profile", full)] {
        let id = body["tenantId"].as_str().unwrap().to_owned();
        api.create_tenant(body).await;
        let key = keys::tenant(&TenantId::parse(&id).unwrap());
        let item = || async {
            api.client
                .get_item()
                .table_name(&api.table)
                .set_key(Some(records::key_item(&key)))
                .send()
                .await
                .unwrap()
                .item
                .unwrap()
        };
        let before = item().await;
        let patched = api
            .patch(
                &format!("/v1/tenants/{id}"),
                &json!({"description": "client 3 change 41"}),
                &[],
            )
            .await;
        assert_eq!(patched.status, 200);
        let record = shared::store::stream::StreamRecord {
            id: format!("0193a6f2-7c3d-7e21-9f00-{:012}", measured.len()),
            old: Some(before),
            new: Some(item().await),
            at: Timestamp::now(),
        };
        api.take_requests();
        let recorded = shared::service::notify::record(store, &record).await.unwrap();
        assert!(recorded.is_some(), "a PATCH is an event");
        let wcu = store
            .requests()
            .capacity()
            .get("TransactWriteItems")
            .copied()
            .unwrap_or(0.0);
        let event = api
            .scan()
            .await
            .into_iter()
            .find(|i| i["entityType"].as_s().unwrap() == "changeEvent" && i["SK"].as_s().unwrap().ends_with(&record.id))
            .unwrap();
        let size = item_size(&event);
        println!("feed event of a PATCH ({shape}): {size} bytes; its transaction (with the guard) {wcu} WCU");
        measured.push((size, wcu));
    }
    // The assumption: an event item of at most 2 KB (4 WCU in its
    // transaction). DynamoDB Local reports its own figure for the whole
    // transaction (printed), not the event item's share: the size decides.
    let (full_size, _) = measured[1];
    assert!(full_size <= 2048, "{full_size} bytes: raise keys::FEED_SHARDS");
}

/// Issue 23: events spread over every shard of a day (and some recorded in
/// the same millisecond) come back in one global order, whatever the page
/// size, each once; a page reads each shard once, at most what it needs
/// from each.
#[tokio::test]
async fn events_over_every_shard_come_back_in_one_order_across_pages() {
    use shared::store::keys;
    let api = spawn_app().await;
    let store = &api.app().store;
    let base = Timestamp::now().plus(time::Duration::seconds(-120));
    // Eight events in each of four shards, two in each other (so that a
    // page reads some shards dry and again): UUID-shaped ids (as the
    // stream's record ids), in no order of their own, drawn until every
    // shard has its share.
    let share = |shard: usize| if shard < 4 { 8 } else { 2 };
    let count: usize = (0..usize::from(keys::FEED_SHARDS)).map(share).sum();
    let mut held = vec![0; usize::from(keys::FEED_SHARDS)];
    let mut ids = (0..).map(|n: usize| format!("0193a6f2-{:04x}-7e21-9f00-{:012x}", 0xffff - n, n * 7919));
    let (mut expected, mut odd_ids) = (Vec::new(), std::collections::BTreeSet::new());
    for i in 0..count {
        // Three events per millisecond.
        let at = base.plus(time::Duration::milliseconds((i / 3) as i64));
        let mut e = event(i);
        e.id = ids
            .find(|id| {
                let shard = usize::from(keys::feed_shard_of(id));
                held[shard] < share(shard)
            })
            .unwrap();
        held[usize::from(keys::feed_shard_of(&e.id))] += 1;
        if e.subject.as_str() == "odd" {
            odd_ids.insert(e.id.clone());
        }
        let path = e.path.clone().unwrap();
        assert!(store.record_change_event(&e, &path, at).await.unwrap());
        expected.push((keys::feed_event(at, &e.id).sk, e.id.clone()));
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    let shards: std::collections::BTreeSet<u16> = expected.iter().map(|id| keys::feed_shard_of(id)).collect();
    assert_eq!(shards.len(), usize::from(keys::FEED_SHARDS), "every shard holds some");

    let now = Timestamp::now();
    // Two days' shards if the events were recorded just before midnight.
    let days = if keys::feed_day(base) == keys::feed_day(now) {
        1
    } else {
        2
    };
    let shard_count = days * u64::from(keys::FEED_SHARDS);
    let mut read_again = false;
    for limit in [1, 2, 3, 25, 100] {
        let (mut seen, mut from) = (Vec::new(), None);
        loop {
            api.take_requests();
            let page = store.feed_page(from.as_ref(), now, limit, |_| true).await.unwrap();
            let queries = api.take_requests().get("Query").copied().unwrap_or(0);
            // The marks (on the first page), one Query per shard, and a few
            // shards read again (those that ran dry before the page was full).
            assert!(
                queries <= 1 + shard_count + shard_count / 2,
                "pages of {limit}: {queries} Queries"
            );
            read_again |= queries > 1 + shard_count;
            seen.extend(page.events.iter().map(|e| e.event["id"].as_str().unwrap().to_owned()));
            from = Some(page.position);
            if !page.more {
                break;
            }
        }
        assert_eq!(seen, expected, "pages of {limit}");
    }
    assert!(read_again, "some page read a shard dry and read it again");

    // Through the API too: the cursor carries the global position.
    let (seen, cursor) = every_page(&api, "/v1/events?limit=3", usize::MAX).await;
    assert_eq!(seen, expected, "pages of 3, through the API");

    // What a page costs: the first of 25, the next, and a poll that follows
    // the last cursor and finds nothing new.
    let cost = || {
        let requests = store.requests();
        let cost = (requests.snapshot(), requests.capacity());
        requests.reset();
        cost
    };
    cost();
    let first = api.get("/v1/events?limit=25").await.json();
    let first_cost = cost();
    let next = format!("/v1/events?limit=25&cursor={}", first["nextCursor"].as_str().unwrap());
    api.get(&next).await;
    let next_cost = cost();
    api.get(&format!("/v1/events?{}", cursor.trim_start_matches('&'))).await;
    let poll_cost = cost();
    println!(
        "feed page costs ({} shards): first page of 25 {first_cost:?}; the next page of 25 {next_cost:?}; a poll with nothing new {poll_cost:?}",
        keys::FEED_SHARDS
    );

    // A filter that keeps few still finds each, in order, once.
    let odd: Vec<String> = expected.iter().filter(|id| odd_ids.contains(*id)).cloned().collect();
    let seen = every_store_page(store, None, now, 4, |e| e.subject == "odd").await;
    assert_eq!(seen, odd);
}

/// Issue 23: events recorded before the feed was sharded live in the day's
/// own partition `FEED#<day>` (kept 30 days): it is shard 0's, so readers
/// serve them, in order among the sharded ones, at no extra `Query`.
#[tokio::test]
async fn an_event_recorded_before_the_feed_was_sharded_is_served() {
    use shared::store::{keys, records};
    let api = spawn_app().await;
    let store = &api.app().store;
    let at = |ago: i64| Timestamp::now().plus(time::Duration::seconds(-ago));
    for (i, ago) in [(0, 90), (2, 30)] {
        let e = event(i);
        store
            .record_change_event(&e, &e.path.clone().unwrap(), at(ago))
            .await
            .unwrap();
    }
    // As the store wrote it before: in the day's partition, whatever the
    // id's shard (this one's is not 0).
    let legacy = event(1);
    assert_ne!(keys::feed_shard_of(&legacy.id), 0);
    let recorded = at(60);
    let day = recorded.to_string()[..10].to_owned();
    let key = keys::Key {
        pk: format!("FEED#{day}"),
        sk: format!("{recorded}#{}", legacy.id),
    };
    api.put_item(records::feed_event_item(
        &key,
        legacy.kind.as_str(),
        &legacy.subject,
        &legacy.path.clone().unwrap(),
        &legacy.cloud_event(),
        recorded.plus(time::Duration::days(30)),
    ))
    .await;
    api.put_item(records::change_event_guard_item(
        &legacy.id,
        recorded.plus(time::Duration::days(30)),
    ))
    .await;

    for limit in [1, 3] {
        let seen = every_store_page(store, None, Timestamp::now(), limit, |_| true).await;
        assert_eq!(seen, ["record-000", "record-001", "record-002"], "pages of {limit}");
    }
    let page = api.get("/v1/events").await.json();
    assert_eq!(ids_of(&page), ["record-000", "record-001", "record-002"]);
    // Redelivered now, it is recorded no second time (its guard holds).
    assert!(!store
        .record_change_event(&legacy, &legacy.path.clone().unwrap(), at(1))
        .await
        .unwrap());
    // The invariant check (at the test's end) takes it as it is.
    assert_eq!(store.check_invariants().await.unwrap(), vec![]);
}

/// The notifier reads an event's feed time once the day is marked, right
/// before its write: a mark that takes long (here 1.5 s, as on a throttled
/// table) does not leave the event behind the moment it lands, where a
/// reader following its cursor (which serves events `SETTLE` old) could
/// already have passed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_feed_time_is_read_after_its_day_is_marked() {
    use shared::store::keys;
    let faults = Faults::default();
    let api = spawn_app_with_faults(&faults).await;
    let slow = time::Duration::milliseconds(1500);
    faults.slow_puts(std::time::Duration::from_millis(1500));
    let e = event(1);
    let before = Timestamp::now();
    let store = &api.app().store;
    assert!(store
        .record_change_event_landing(&e, &e.path.clone().unwrap(), before)
        .await
        .unwrap());
    faults.reset();
    let recorded: Vec<String> = api
        .scan()
        .await
        .iter()
        .map(TestApi::key_of)
        .filter(|key| key.sk.ends_with(&format!("#{}", e.id)))
        .map(|key| key.sk)
        .collect();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(
        recorded[0] >= keys::feed_events_until(before.plus(slow)),
        "recorded at {} though its day's mark took until after {}",
        recorded[0],
        before.plus(slow)
    );
    // Recorded once: the stream's retry of the same record adds nothing.
    assert!(!store
        .record_change_event_landing(&e, &e.path.clone().unwrap(), before)
        .await
        .unwrap());
}
