//! Routing: API Gateway already matched the route, so the handler only
//! reads the route key and hands the request to its adapter.

use lambda_http::{Body, Request, Response};
use shared::http::{self, claims, HttpResult, Problem};
use shared::App;

use crate::{adapters, members};

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
];

/// Answers one request. Never fails: every error is a problem+json response.
pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let requests_before = app.store.requests().total();
    let result = dispatch(app, &req).await;
    let response =
        result.unwrap_or_else(|problem| problem.into_response(Some(req.uri().path()), http::request_id(&req)));
    tracing::info!(
        route = http::route_key(&req).unwrap_or("-"),
        status = response.status().as_u16(),
        dynamodb_requests = app.store.requests().total().saturating_sub(requests_before),
        "handled"
    );
    response
}

async fn dispatch(app: &App, req: &Request) -> HttpResult {
    let caller = claims::caller(req, &app.config.auth)?;
    let Some(route) = http::route_key(req) else {
        return Err(Problem::not_found("the request carries no API Gateway route key"));
    };
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
        other => Err(Problem::not_found(format!(
            "route '{other}' is not served by the tenants function"
        ))),
    }
}
