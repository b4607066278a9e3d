//! The route table: API Gateway already matched the route, so each route
//! key only names its adapter; [`shared::http::serve`] does the rest.

use lambda_http::{Body, Request, Response};
use shared::http::{self, Handler, Route, Routes};
use shared::route;
use shared::HttpApp;

use crate::{adapters, feed, members};

/// Every route this function serves, as template.yaml declares them.
pub static ROUTES: Routes<HttpApp> = Routes {
    function: "tenants",
    routes: &[
        route!("POST /v1/tenants" => adapters::create),
        route!("GET /v1/tenants" => adapters::list),
        route!("GET /v1/tenants/mine" => members::mine),
        route!("GET /v1/tenants/by-name/{name}" => adapters::get_by_name),
        route!("GET /v1/tenants/{id}" => adapters::get),
        route!("PUT /v1/tenants/{id}" => adapters::replace),
        route!("PATCH /v1/tenants/{id}" => adapters::patch),
        route!("DELETE /v1/tenants/{id}" => adapters::delete),
        route!("POST /v1/tenants/{id}/retire" => adapters::retire),
        route!("POST /v1/tenants/{id}/restore" => adapters::restore),
        route!("GET /v1/tenants/{id}/children" => adapters::children),
        route!("GET /v1/tenants/{id}/ancestors" => adapters::ancestors),
        route!("GET /v1/tenants/{id}/events" => adapters::history),
        route!("GET /v1/tenants/{id}/members" => members::list),
        route!("GET /v1/tenants/{id}/members/{userId}" => members::get),
        route!("PUT /v1/tenants/{id}/members/{userId}" => members::put),
        route!("DELETE /v1/tenants/{id}/members/{userId}" => members::delete),
        route!("GET /v1/events" => feed::feed),
        // The one route without a token (the template gives it no authoriser).
        Route {
            key: shared::openapi::ROUTE,
            handler: Handler::Public(adapters::openapi),
        },
    ],
};

/// Answers one request. Never fails: every error is a problem+json response.
pub async fn handle(app: &HttpApp, req: Request) -> Response<Body> {
    http::serve(app, &ROUTES, req).await
}
