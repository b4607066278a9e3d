//! Routing by the route key API Gateway matched.

use lambda_http::{Body, Request, Response};
use shared::http::{self, claims, HttpResult, Invocation, Problem};
use shared::App;

use crate::adapters;

/// Every route this function serves, as template.yaml declares them.
pub const ROUTES: &[&str] = &[
    "GET /v1/subtenants",
    "GET /v1/tenants/{id}/subtenants",
    "POST /v1/tenants/{id}/subtenants",
    "GET /v1/tenants/{id}/subtenants/{subtenantId}",
    "PUT /v1/tenants/{id}/subtenants/{subtenantId}",
    "PATCH /v1/tenants/{id}/subtenants/{subtenantId}",
    "DELETE /v1/tenants/{id}/subtenants/{subtenantId}",
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
        "GET /v1/subtenants" => adapters::list_all(app, req, &caller).await,
        "GET /v1/tenants/{id}/subtenants" => adapters::list(app, req, &caller).await,
        "POST /v1/tenants/{id}/subtenants" => adapters::create(app, req, &caller).await,
        "GET /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::get(app, req, &caller).await,
        "PUT /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::replace(app, req, &caller).await,
        "PATCH /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::patch(app, req, &caller).await,
        "DELETE /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::delete(app, req, &caller).await,
        other => Err(Problem::unknown_route(format!(
            "route '{other}' is not served by the subtenants function"
        ))),
    }
}
