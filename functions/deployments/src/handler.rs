//! Routing by the route key API Gateway matched.

use lambda_http::{Body, Request, Response};
use shared::http::{self, claims, HttpResult, Invocation, Problem};
use shared::App;

use crate::adapters;

/// Every route this function serves, as template.yaml declares them.
pub const ROUTES: &[&str] = &[
    "POST /v1/tenants/{id}/deployments",
    "GET /v1/tenants/{id}/deployments",
    "GET /v1/tenants/{id}/deployments/{version}",
    "POST /v1/tenants/{id}/clone",
    "GET /v1/jobs/{jobId}",
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
        "POST /v1/tenants/{id}/deployments" => adapters::deploy(app, req, &caller).await,
        "GET /v1/tenants/{id}/deployments" => adapters::list(app, req, &caller).await,
        "GET /v1/tenants/{id}/deployments/{version}" => adapters::get(app, req, &caller).await,
        "POST /v1/tenants/{id}/clone" => adapters::clone(app, req, &caller).await,
        "GET /v1/jobs/{jobId}" => adapters::job(app, req, &caller).await,
        other => Err(Problem::unknown_route(format!(
            "route '{other}' is not served by the deployments function"
        ))),
    }
}
