//! The dev gateway: the whole API on loopback, as API Gateway would serve it.
//!
//! It verifies HS256 bearer tokens like the HTTP API JWT authoriser, matches
//! routes exactly as template.yaml declares them, builds the same API Gateway
//! v2 event JSON, and hands it to the same handler functions Lambda calls.
//! It also follows the table's stream and runs the `jobs` handler on the
//! records template.yaml's filter would deliver.
//! Development only; never deployed.

pub mod background;
pub mod dataset;
pub mod docs;
pub mod dynamodb_local;
pub mod event;
pub mod gateway;
pub mod iam;
pub mod jwt;
pub mod local_bus;
pub mod routes;
pub mod server;
pub mod stream;

pub use gateway::Gateway;
