//! Tenancy's common crate.
//!
//! Every Lambda of the bundle is a thin binary over this crate:
//! - [`domain`]: the tenant model, its value types and the rules that build them
//!   from untrusted JSON (every violation collected, none lost);
//! - [`service`]: the use cases (create, update, retire…) over a [`store::Store`];
//! - [`store`]: the only module that talks to DynamoDB (keys, records, conditions);
//! - [`http`]: the edge shared by every HTTP function (body and query parsing,
//!   problem+json, cursors, claims, responses);
//! - [`config`], [`telemetry`], [`app`]: what a function builds once at init
//!   (the composition root: [`App`] for every function, [`HttpApp`] for HTTP);
//! - [`stream_filter`]: the stream functions' filter criteria, applied locally.

pub mod app;
pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod openapi;
pub mod service;
pub mod store;
pub mod stream_filter;
pub mod telemetry;

pub use app::{App, HttpApp};
pub use config::Config;
pub use error::{Code, Error, FieldError};
