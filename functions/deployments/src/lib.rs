//! The `deployments` Lambda's library: [`handle`] takes an API Gateway
//! request and always answers, so tests and the dev gateway call what Lambda calls.

mod adapters;
mod handler;

pub use handler::{handle, ROUTES};
