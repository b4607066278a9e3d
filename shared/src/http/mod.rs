//! The HTTP edge shared by every HTTP function: its one entry point
//! ([`serve`] over a function's route table), reading requests (bodies,
//! queries, headers, claims), writing responses, and problem+json.
//!
//! Layering: this module sits on the services (and what they stand on) and
//! knows nothing of the application that composes it: what it needs from
//! one is the [`Edge`] trait.

pub mod body;
pub mod claims;
pub mod conditional;
pub mod cursor;
pub mod idempotency;
pub mod problem;
pub mod query;
pub mod request;
pub mod response;
pub mod serve;

pub use lambda_http::{Body, Request, Response};
pub use problem::Problem;
pub use request::{expected, path_param, stamp, tenant_id};
pub use serve::{serve, Edge, Handler, Route, Routes};

/// What an adapter returns: a response, or a problem to render.
pub type HttpResult = Result<Response<Body>, Problem>;

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
    pub fn begin(app: &impl Edge) -> Self {
        Self {
            requests_before: app.dynamodb_requests(),
        }
    }

    /// The response for `result`; errors become problem+json. Logs the
    /// request (see [`log_handled`]).
    pub fn end(self, app: &impl Edge, req: &Request, result: HttpResult) -> Response<Body> {
        let code = result.as_ref().err().map(|problem| problem.code);
        let mut response =
            result.unwrap_or_else(|problem| problem.into_response(Some(req.uri().path()), request_id(req)));
        response::harden(&mut response);
        let dynamodb_requests = app.dynamodb_requests().saturating_sub(self.requests_before);
        log_handled(req, response.status().as_u16(), code, dynamodb_requests);
        response
    }
}

/// The one log line per request ("handled"), whose fields the runbook's
/// Logs Insights queries use (docs/operations/alarms.md): `route`, `status`,
/// `code` (the problem's, "-" for a success), `tenant_id` (the path's `{id}`,
/// "-" without one), `api_request_id` (API Gateway's, which callers quote and
/// the access log shows) and `dynamodb_requests`. With the template's JSON
/// log format they appear as `fields.route`, `fields.status`, ...
pub fn log_handled(req: &Request, status: u16, code: Option<crate::error::Code>, dynamodb_requests: u64) {
    let tenant_id = path_param(req, "id");
    tracing::info!(
        route = route_key(req).unwrap_or("-"),
        status,
        code = code.map_or("-", |c| c.as_str()),
        tenant_id = tenant_id.as_deref().unwrap_or("-"),
        api_request_id = request_id(req).unwrap_or("-"),
        dynamodb_requests,
        "handled"
    );
}

/// The route key of an API Gateway request, or a 404 problem.
pub fn route_of(req: &Request) -> Result<&str, Problem> {
    route_key(req).ok_or_else(|| Problem::unknown_route("the request carries no API Gateway route key"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;
    use lambda_http::tracing::subscriber;
    use lambda_http::RequestExt;

    use super::*;
    use crate::error::Code;

    /// What the JSON subscriber writes, as Lambda's JSON log format would.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(req: &Request, status: u16, code: Option<Code>) -> serde_json::Value {
        let captured = Captured::default();
        let writer = captured.clone();
        let collector = subscriber::fmt()
            .json()
            .with_target(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        lambda_http::tracing::dispatcher::with_default(&collector.into(), || log_handled(req, status, code, 3));
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        serde_json::from_str(text.trim()).unwrap()
    }

    fn request(route: &str, id: Option<&str>) -> Request {
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.route_key = Some(route.to_owned());
        context.request_id = Some("api-req-1".to_owned());
        let req = Request::default().with_request_context(RequestContext::ApiGatewayV2(context));
        match id {
            Some(id) => req.with_path_parameters(std::collections::HashMap::from([("id".to_owned(), id.to_owned())])),
            None => req,
        }
    }

    #[test]
    fn a_failed_request_logs_the_fields_the_runbook_queries() {
        let line = logged(
            &request("GET /v1/tenants/{id}", Some("t-123")),
            404,
            Some(Code::NotFound),
        );
        let fields = &line["fields"];
        assert_eq!(fields["message"], "handled");
        assert_eq!(fields["route"], "GET /v1/tenants/{id}");
        assert_eq!(fields["status"], 404);
        assert_eq!(fields["code"], Code::NotFound.as_str());
        assert_eq!(fields["tenant_id"], "t-123");
        assert_eq!(fields["api_request_id"], "api-req-1");
        assert_eq!(fields["dynamodb_requests"], 3);
        assert_eq!(line["level"], "INFO");
    }

    #[test]
    fn a_success_without_a_tenant_logs_dashes() {
        let line = logged(&request("GET /v1/tenants", None), 200, None);
        assert_eq!(line["fields"]["code"], "-");
        assert_eq!(line["fields"]["tenant_id"], "-");
        assert_eq!(line["fields"]["status"], 200);
    }
}
