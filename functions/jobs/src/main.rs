//! The `jobs` Lambda, fed by the table's stream (filtered to queued jobs):
//! init once, then run each batch's jobs, reporting only failed records.

use aws_lambda_events::event::dynamodb::Event;
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use lambda_http::Error;

// One thread: Lambda hands a function one event at a time, and a lone
// runtime thread spares the worker threads' wake-ups (a quarter of the CPU
// per invocation in `make bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app: &'static shared::App = Box::leak(Box::new(shared::App::worker_from_env().await?));
    run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(jobs::handle(app, &event.payload).await)
    }))
    .await
}
