//! The OpenAPI 3.1 document of the whole API: written as YAML in
//! `api/openapi/`, merged into `api/openapi.json` by `make openapi`, and
//! served as is by `GET /v1/openapi.json`. Tests keep it equal to the YAML
//! and to the code (routes, permissions, statuses, schemas).

/// The document, as served.
pub const DOCUMENT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../api/openapi.json"));

/// The route that serves it, without a token.
pub const ROUTE: &str = "GET /v1/openapi.json";
