//! The `tenants` Lambda's library: [`handle`] takes an API Gateway request and
//! always answers (errors become problem+json), so tests and the dev gateway
//! call exactly what Lambda calls.

mod adapters;
mod feed;
mod handler;
mod list_params;
mod members;

pub use handler::{handle, ROUTES};
