//! Request in, response out: route, authorise, build the event, call the
//! function's handler in-process, and answer as API Gateway would.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::FutureExt;
use http::{header, HeaderValue, Request, Response, StatusCode};
use lambda_http::Body;
use shared::HttpApp;
use tracing::Instrument;

use crate::event::{self, Incoming};
use crate::jwt::{authoriser_claims, Verifier};
use crate::routes;

pub struct Gateway {
    app: HttpApp,
    verifier: Verifier,
    host: String,
    requests: AtomicU64,
}

/// API Gateway's own error bodies (not problem+json: they come before any function runs).
fn gateway_error(status: StatusCode, message: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(format!("{{\"message\":\"{message}\"}}")));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

impl Gateway {
    /// `host` is what handlers see as `Host` (the gateway's address). The
    /// functions' DynamoDB requests are held to template.yaml's policies from
    /// now on (see [`crate::iam`]).
    pub fn new(app: HttpApp, verifier: Verifier, host: impl Into<String>) -> Self {
        if let Some(grants) = crate::iam::template_grants() {
            app.store.requests().enforce(grants);
        }
        Self {
            app,
            verifier,
            host: host.into(),
            requests: AtomicU64::new(0),
        }
    }

    pub fn app(&self) -> &HttpApp {
        &self.app
    }

    /// Serves one request whose body has already been read.
    pub async fn handle(&self, req: Request<Bytes>, source_ip: String) -> Response<Bytes> {
        let method = req.method().as_str().to_owned();
        let raw_path = req.uri().path().to_owned();
        let Some(matched) = routes::find(&method, &raw_path) else {
            return gateway_error(StatusCode::NOT_FOUND, "Not Found");
        };
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = match token.and_then(|t| self.verifier.verify(t.trim(), now).ok()) {
            Some(claims) => claims,
            None if routes::PUBLIC.contains(&matched.route_key) => Default::default(),
            None => return gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"),
        };
        let sequence = self.requests.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("local-{now:x}-{sequence}");
        let incoming = Incoming {
            method: &method,
            raw_path: &raw_path,
            raw_query: req.uri().query().unwrap_or(""),
            headers: req.headers(),
            body: req.body(),
            source_ip,
            host: &self.host,
        };
        let event = event::build(&incoming, &matched, authoriser_claims(&claims), &request_id);
        let lambda_request = match lambda_http::request::from_str(&event.to_string()) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "the gateway built an event lambda_http cannot read");
                return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            }
        };
        let invocation = matched.function.invoke(&self.app, lambda_request);
        // The span Lambda's runtime opens per invocation, so local logs carry the request id too.
        let span =
            tracing::info_span!("Lambda runtime invoke", requestId = %request_id, function = matched.function.name());
        // A panicking function is a failed invocation: API Gateway answers 500.
        match AssertUnwindSafe(invocation).catch_unwind().instrument(span).await {
            Ok(response) => into_bytes(response),
            Err(_) => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    }
}

fn into_bytes(response: Response<Body>) -> Response<Bytes> {
    response.map(|body| match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    })
}
