//! The floor of `make bench`: the least a Rust Lambda on this stack can do
//! for `GET /v1/tenants/{tenantId}` — one GetItem, the item's attribute names
//! as the body. No validation, no auth, no JSON model, no logging set-up.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The SDK's HTTPS client as the functions build theirs (rustls over ring).
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .load()
        .await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk_config);
    if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
        builder = builder.endpoint_url(endpoint);
    }
    let client = &*Box::leak(Box::new(aws_sdk_dynamodb::Client::from_conf(builder.build())));
    let table: &'static str = Box::leak(std::env::var("TABLE_NAME")?.into_boxed_str());
    run(service_fn(move |request: Request| async move {
        let id = request.path_parameters().first("id").unwrap_or_default().to_owned();
        let output = client
            .get_item()
            .table_name(table)
            .key("PK", AttributeValue::S(format!("TENANT#{id}")))
            .key("SK", AttributeValue::S("TENANT".into()))
            .consistent_read(true)
            .send()
            .await?;
        let (status, body) = match output.item {
            Some(item) => (200, item.into_keys().collect::<Vec<_>>().join(",")),
            None => (404, String::new()),
        };
        Ok::<_, Error>(Response::builder().status(status).body(Body::from(body))?)
    }))
    .await
}
