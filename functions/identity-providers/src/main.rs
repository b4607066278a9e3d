//! The `identity-providers` Lambda: init once (config, DynamoDB client), then serve.

use lambda_http::{run, service_fn, Error};

// One thread: Lambda hands a function one event at a time, and a lone
// runtime thread spares the worker threads' wake-ups (a quarter of the CPU
// per invocation in `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app: &'static shared::HttpApp = Box::leak(Box::new(shared::HttpApp::from_env().await?));
    run(service_fn(move |req| async move {
        Ok::<_, Error>(identity_providers::handle(app, req).await)
    }))
    .await
}
