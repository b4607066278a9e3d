//! Routing: API Gateway already matched the route, so the handler only
//! reads the route key and hands the request to its adapter.

use lambda_http::{Body, Request, Response};
use shared::http::{self, claims, HttpResult, Invocation, Problem};
use shared::App;

use crate::{adapters, feed, members};

/// Every route this function serves, as template.yaml declares them.
pub const ROUTES: &[&str] = &[
    "POST /v1/tenants",
    "GET /v1/tenants",
    "GET /v1/tenants/mine",
    "GET /v1/tenants/by-name/{name}",
    "GET /v1/tenants/{id}",
    "PUT /v1/tenants/{id}",
    "PATCH /v1/tenants/{id}",
    "DELETE /v1/tenants/{id}",
    "POST /v1/tenants/{id}/retire",
    "POST /v1/tenants/{id}/restore",
    "GET /v1/tenants/{id}/children",
    "GET /v1/tenants/{id}/ancestors",
    "GET /v1/tenants/{id}/events",
    "GET /v1/tenants/{id}/members",
    "GET /v1/tenants/{id}/members/{userId}",
    "PUT /v1/tenants/{id}/members/{userId}",
    "DELETE /v1/tenants/{id}/members/{userId}",
    "GET /v1/events",
    shared::openapi::ROUTE,
];

/// Answers one request. Never fails: every error is a problem+json response.
pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let invocation = Invocation::begin(app);
    let result = dispatch(app, &req).await;
    invocation.end(app, &req, result)
}

async fn dispatch(app: &App, req: &Request) -> HttpResult {
    let route = http::route_of(req)?;
    if route == shared::openapi::ROUTE {
        // The one route without a token (the template gives it no authoriser).
        return adapters::openapi(req);
    }
    let caller = claims::caller(req, &app.config.auth)?;
    match route {
        "POST /v1/tenants" => adapters::create(app, req, &caller).await,
        "GET /v1/tenants" => adapters::list(app, req, &caller).await,
        "GET /v1/tenants/mine" => members::mine(app, req, &caller).await,
        "GET /v1/tenants/by-name/{name}" => adapters::get_by_name(app, req, &caller).await,
        "GET /v1/tenants/{id}" => adapters::get(app, req, &caller).await,
        "PUT /v1/tenants/{id}" => adapters::replace(app, req, &caller).await,
        "PATCH /v1/tenants/{id}" => adapters::patch(app, req, &caller).await,
        "DELETE /v1/tenants/{id}" => adapters::delete(app, req, &caller).await,
        "POST /v1/tenants/{id}/retire" => adapters::retire(app, req, &caller).await,
        "POST /v1/tenants/{id}/restore" => adapters::restore(app, req, &caller).await,
        "GET /v1/tenants/{id}/children" => adapters::children(app, req, &caller).await,
        "GET /v1/tenants/{id}/ancestors" => adapters::ancestors(app, req, &caller).await,
        "GET /v1/tenants/{id}/events" => adapters::history(app, req, &caller).await,
        "GET /v1/tenants/{id}/members" => members::list(app, req, &caller).await,
        "GET /v1/tenants/{id}/members/{userId}" => members::get(app, req, &caller).await,
        "PUT /v1/tenants/{id}/members/{userId}" => members::put(app, req, &caller).await,
        "DELETE /v1/tenants/{id}/members/{userId}" => members::delete(app, req, &caller).await,
        "GET /v1/events" => feed::feed(app, req, &caller).await,
        other => Err(Problem::unknown_route(format!(
            "route '{other}' is not served by the tenants function"
        ))),
    }
}
