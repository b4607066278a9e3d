//! An unreachable database answers 503 with Retry-After, quickly and without
//! leaking anything about the failure.

use dev_gateway::dynamodb_local::free_port;
use shared::{store, App, Config};

#[tokio::test]
async fn an_unreachable_database_is_a_503_problem() {
    let endpoint = format!("http://127.0.0.1:{}", free_port().unwrap());
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("nowhere".into()),
        "CURSOR_SECRET" => Some("0123456789abcdef".into()),
        _ => None,
    })
    .unwrap();
    let app = App::new(config, store::local_client(&endpoint));
    let event = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/tenants-get.json")).unwrap();
    let started = std::time::Instant::now();
    let response = tenants::handle(&app, lambda_http::request::from_str(&event).unwrap()).await;
    assert!(
        started.elapsed().as_secs() < 8,
        "bounded by the SDK timeouts, far below the Lambda timeout"
    );
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    let body = match response.body() {
        lambda_http::Body::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    };
    assert!(!body.contains("127.0.0.1") && !body.contains("dispatch"), "{body}");
}
