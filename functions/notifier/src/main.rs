//! The `notifier` Lambda, fed by the table's stream (filtered to the items
//! that can mean a change event): init once, then record and publish each
//! batch's change events, reporting only the record to retry from.

use aws_lambda_events::event::dynamodb::Event;
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use lambda_http::Error;

// One thread: Lambda hands a function one event at a time, and a lone
// runtime thread spares the worker threads' wake-ups (a quarter of the CPU
// per invocation in `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let sdk_config = shared::app::load_sdk_config().await;
    let app: &'static shared::App = Box::leak(Box::new(shared::App::worker_from_env_with(&sdk_config)?));
    let bus: &'static notifier::Bus = Box::leak(Box::new(notifier::Bus::from_env(&sdk_config)?));
    run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(notifier::handle(app, bus, &event.payload).await)
    }))
    .await
}
