//! The `deployments` Lambda: init once (config, DynamoDB client), then serve.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app: &'static shared::App = Box::leak(Box::new(shared::App::from_env().await?));
    run(service_fn(move |req| async move {
        Ok::<_, Error>(deployments::handle(app, req).await)
    }))
    .await
}
