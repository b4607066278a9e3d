//! The route table: each route key API Gateway matches names its adapter;
//! [`shared::http::serve`] does the rest.

use lambda_http::{Body, Request, Response};
use shared::http::{self, Routes};
use shared::route;
use shared::HttpApp;

use crate::adapters;

/// Every route this function serves, as template.yaml declares them.
pub static ROUTES: Routes<HttpApp> = Routes {
    function: "subtenants",
    routes: &[
        route!("GET /v1/subtenants" => adapters::list_all),
        route!("GET /v1/tenants/{id}/subtenants" => adapters::list),
        route!("POST /v1/tenants/{id}/subtenants" => adapters::create),
        route!("GET /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::get),
        route!("PUT /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::replace),
        route!("PATCH /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::patch),
        route!("DELETE /v1/tenants/{id}/subtenants/{subtenantId}" => adapters::delete),
    ],
};

/// Answers one request. Never fails: every error is a problem+json response.
pub async fn handle(app: &HttpApp, req: Request) -> Response<Body> {
    http::serve(app, &ROUTES, req).await
}
