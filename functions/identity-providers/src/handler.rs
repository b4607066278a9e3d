//! The route table: each route key API Gateway matches names its adapter;
//! [`shared::http::serve`] does the rest.

use lambda_http::{Body, Request, Response};
use shared::http::{self, Routes};
use shared::route;
use shared::HttpApp;

use crate::adapters;

/// Every route this function serves, as template.yaml declares them.
pub static ROUTES: Routes<HttpApp> = Routes {
    function: "identity-providers",
    routes: &[
        route!("GET /v1/tenants/{id}/identity-providers" => adapters::list),
        route!("GET /v1/tenants/{id}/identity-providers/{ipId}" => adapters::get),
        route!("PUT /v1/tenants/{id}/identity-providers/{ipId}" => adapters::put),
        route!("DELETE /v1/tenants/{id}/identity-providers/{ipId}" => adapters::delete),
        route!("GET /v1/tenants/{id}/identity-providers/{ipId}/groups" => adapters::list_mappings),
        route!("GET /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}" => adapters::get_mapping),
        route!("PUT /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}/{to}" => adapters::put_mapping),
        route!("DELETE /v1/tenants/{id}/identity-providers/{ipId}/groups/{from}" => adapters::delete_mapping),
        route!("GET /v1/identity-providers/by-domain/{domain}" => adapters::by_domain),
    ],
};

/// Answers one request. Never fails: every error is a problem+json response.
pub async fn handle(app: &HttpApp, req: Request) -> Response<Body> {
    http::serve(app, &ROUTES, req).await
}
