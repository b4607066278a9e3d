//! The events feed's storage: recorded once per event id, served in order,
//! only once settled, with no gap however it is paged.

use serde_json::json;
use shared::domain::{TenantId, Timestamp};
use shared::service::change_events::ChangeEvent;

use crate::helpers::spawn_app;

fn event(i: usize) -> ChangeEvent {
    let subject = TenantId::parse(if i.is_multiple_of(2) { "even" } else { "odd" }).unwrap();
    ChangeEvent {
        id: format!("record-{i:03}"),
        kind: "tenant.updated".into(),
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
