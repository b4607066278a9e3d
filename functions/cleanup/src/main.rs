//! The `cleanup` Lambda, run by an EventBridge schedule: init once, then
//! purge on each event, stopping before the invocation's deadline.

use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use lambda_http::Error;
use serde_json::Value;

// One thread: Lambda hands a function one event at a time, and a lone
// runtime thread spares the worker threads' wake-ups (a quarter of the CPU
// per invocation in `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app: &'static shared::App = Box::leak(Box::new(shared::App::worker_from_env().await?));
    let settings: &'static cleanup::Settings = Box::leak(Box::new(cleanup::Settings::from_env()?));
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = cleanup::deadline_instant(event.context.deadline);
        let summary = cleanup::handle(app, settings, &event.payload, deadline).await?;
        Ok::<_, Error>(serde_json::to_value(summary)?)
    }))
    .await
}
