//! An unreachable database answers 503 with Retry-After, quickly and without
//! leaking anything about the failure.

use dev_gateway::dynamodb_local::free_port;
use shared::{store, Config, HttpApp};

#[tokio::test]
async fn an_unreachable_database_is_a_503_problem() {
    let endpoint = format!("http://127.0.0.1:{}", free_port().unwrap());
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("nowhere".into()),
        "CURSOR_SECRET" => Some("0123456789abcdef".into()),
        _ => None,
    })
    .unwrap();
    let app = HttpApp::new(config, store::local_client(&endpoint));
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

/// A stand-in for DynamoDB that throttles every request, as DynamoDB does
/// when a table's capacity is exceeded.
async fn throttling_endpoint() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 1 << 16];
                let _ = stream.read(&mut buffer).await;
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
                let response = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    endpoint
}

/// Every sample request (events/, one per route) answered by its function
/// over a database at `endpoint`: (route key, status, retry-after).
async fn every_route_over(endpoint: &str) -> Vec<(String, u16, Option<String>)> {
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("nowhere".into()),
        "CURSOR_SECRET" => Some("0123456789abcdef".into()),
        _ => None,
    })
    .unwrap();
    let app = &HttpApp::new(config, store::local_client(endpoint));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    let mut events = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(route) = json["routeKey"].as_str() {
            events.push((route.to_owned(), text));
        }
    }
    let answers = events.into_iter().map(|(route, text)| async move {
        let function = dev_gateway::routes::Function::of_route(&route).unwrap();
        let response = function
            .invoke(app, lambda_http::request::from_str(&text).unwrap())
            .await;
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok());
        let code = match response.body() {
            lambda_http::Body::Text(text) => crate::helpers::problem_code(content_type, text.as_bytes()),
            _ => None,
        };
        crate::helpers::observe(&route, response.status().as_u16(), code.as_deref());
        (route, response.status().as_u16(), retry_after)
    });
    futures_util::future::join_all(answers).await
}

#[tokio::test]
async fn every_route_answers_503_when_the_database_is_unreachable_and_429_when_it_throttles() {
    let unreachable = format!("http://127.0.0.1:{}", free_port().unwrap());
    let throttling = throttling_endpoint().await;
    for (endpoint, status, retry_after) in [(unreachable, 503, "2"), (throttling, 429, "1")] {
        for (route, answered, retry) in every_route_over(&endpoint).await {
            if dev_gateway::routes::PUBLIC.contains(&route.as_str()) {
                assert_eq!(answered, 200, "{route} reads no table");
                continue;
            }
            assert_eq!((answered, retry.as_deref()), (status, Some(retry_after)), "{route}");
        }
    }
}

/// DynamoDB Local runs without telemetry and writes no installation id
/// (`dynamodb-local-metadata.json`) into the working directory or the
/// repository: `-disableTelemetry` alone still wrote one.
#[test]
fn dynamodb_local_leaves_no_telemetry_file_behind() {
    let running = crate::helpers::dynamodb();
    assert!(std::net::TcpStream::connect(("127.0.0.1", running.port)).is_ok());
    let tests_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        std::env::current_dir().unwrap(),
        tests_dir.to_path_buf(),
        tests_dir.join(".."),
    ] {
        let file = dir.join("dynamodb-local-metadata.json");
        assert!(!file.exists(), "{} was written", file.display());
    }
}
