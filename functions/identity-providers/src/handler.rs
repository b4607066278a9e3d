//! Routing by the route key API Gateway matched.

use lambda_http::{Body, Request, Response};
use shared::http::{self, claims, HttpResult, Invocation, Problem};
use shared::App;

use crate::adapters;

/// Every route this function serves, as template.yaml declares them.
pub const ROUTES: &[&str] = &[
    "GET /v1/tenants/{id}/identity-providers",
    "GET /v1/tenants/{id}/identity-providers/{ipId}",
    "PUT /v1/tenants/{id}/identity-providers/{ipId}",
    "DELETE /v1/tenants/{id}/identity-providers/{ipId}",
    "GET /v1/tenants/{id}/identity-providers/{ipId}/groups",
    "GET /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}",
    "PUT /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}/{to}",
    "DELETE /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}",
    "GET /v1/identity-providers/by-domain/{domain}",
];

/// Answers one request. Never fails: every error is a problem+json response.
pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let invocation = Invocation::begin(app);
    let result = dispatch(app, &req).await;
    invocation.end(app, &req, result)
}

async fn dispatch(app: &App, req: &Request) -> HttpResult {
    let caller = claims::caller(req, &app.config.auth)?;
    match http::route_of(req)? {
        "GET /v1/tenants/{id}/identity-providers" => adapters::list(app, req, &caller).await,
        "GET /v1/tenants/{id}/identity-providers/{ipId}" => adapters::get(app, req, &caller).await,
        "PUT /v1/tenants/{id}/identity-providers/{ipId}" => adapters::put(app, req, &caller).await,
        "DELETE /v1/tenants/{id}/identity-providers/{ipId}" => adapters::delete(app, req, &caller).await,
        "GET /v1/tenants/{id}/identity-providers/{ipId}/groups" => adapters::list_mappings(app, req, &caller).await,
        "GET /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}" => {
            adapters::get_mapping(app, req, &caller).await
        }
        "PUT /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}/{to}" => {
            adapters::put_mapping(app, req, &caller).await
        }
        "DELETE /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}" => {
            adapters::delete_mapping(app, req, &caller).await
        }
        "GET /v1/identity-providers/by-domain/{domain}" => adapters::by_domain(app, req, &caller).await,
        other => Err(Problem::unknown_route(format!(
            "route '{other}' is not served by the identity-providers function"
        ))),
    }
}
