//! The route table: each route key API Gateway matches names its adapter;
//! [`shared::http::serve`] does the rest.

use lambda_http::{Body, Request, Response};
use shared::http::{self, Routes};
use shared::route;
use shared::HttpApp;

use crate::adapters;

/// Every route this function serves, as template.yaml declares them.
pub static ROUTES: Routes<HttpApp> = Routes {
    function: "deployments",
    routes: &[
        route!("POST /v1/tenants/{id}/deployments" => adapters::deploy),
        route!("GET /v1/tenants/{id}/deployments" => adapters::list),
        route!("GET /v1/tenants/{id}/deployments/{version}" => adapters::get),
        route!("POST /v1/tenants/{id}/clone" => adapters::clone),
        route!("GET /v1/jobs/{jobId}" => adapters::job),
    ],
};

/// Answers one request. Never fails: every error is a problem+json response.
pub async fn handle(app: &HttpApp, req: Request) -> Response<Body> {
    http::serve(app, &ROUTES, req).await
}
