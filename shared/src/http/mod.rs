//! The HTTP edge shared by every HTTP function: reading requests (bodies,
//! queries, headers, claims), writing responses, and problem+json.

pub mod body;
pub mod claims;
pub mod conditional;
pub mod cursor;
pub mod idempotency;
pub mod problem;
pub mod query;
pub mod response;

pub use lambda_http::{Body, Request, Response};
pub use problem::Problem;

/// What an adapter returns: a response, or a problem to render.
pub type HttpResult = Result<Response<Body>, Problem>;

/// A path parameter as API Gateway decoded it.
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    use lambda_http::RequestExt;
    req.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned)
}

/// The route key API Gateway matched (`"GET /v1/tenants/{id}"`), which is
/// how handlers dispatch: the gateway already did the path matching.
pub fn route_key(req: &Request) -> Option<&str> {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.route_key.as_deref(),
        _ => None,
    }
}

/// API Gateway's request id, which callers can quote and access logs show.
pub fn request_id(req: &Request) -> Option<&str> {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.as_deref(),
        _ => None,
    }
}

/// One request being answered: what every HTTP function does around its
/// routing (problem rendering, the log line with the DynamoDB request count).
pub struct Invocation {
    requests_before: u64,
}

impl Invocation {
    pub fn begin(app: &crate::App) -> Self {
        Self {
            requests_before: app.store.requests().total(),
        }
    }

    /// The response for `result`; errors become problem+json. Logs the route,
    /// status and how many DynamoDB requests answering took.
    pub fn end(self, app: &crate::App, req: &Request, result: HttpResult) -> Response<Body> {
        let mut response =
            result.unwrap_or_else(|problem| problem.into_response(Some(req.uri().path()), request_id(req)));
        response::harden(&mut response);
        tracing::info!(
            route = route_key(req).unwrap_or("-"),
            status = response.status().as_u16(),
            dynamodb_requests = app.store.requests().total().saturating_sub(self.requests_before),
            "handled"
        );
        response
    }
}

/// The route key of an API Gateway request, or a 404 problem.
pub fn route_of(req: &Request) -> Result<&str, Problem> {
    route_key(req).ok_or_else(|| Problem::unknown_route("the request carries no API Gateway route key"))
}
