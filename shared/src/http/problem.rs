//! problem+json (RFC 9457): the one shape of every error response, and the
//! one mapping from domain errors to HTTP.

use http::{header, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::{BoxError, Code, Error, FieldError};

/// An error response: status, a stable `code` (whose kind is the last
/// segment of `type`), what happened, and every field error.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: Code,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u32>,
    /// For 412: the ETag of the current version.
    pub current_etag: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    type_uri: String,
    title: &'a str,
    status: u16,
    code: &'static str,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    errors: &'a [FieldError],
}

pub const CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    pub fn new(status: StatusCode, code: Code, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            current_etag: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("{} {}", errors[0].field, errors[0].message),
            n => format!("the request has {n} invalid fields; see errors"),
        };
        Self {
            errors,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                Code::ValidationFailed,
                "Invalid request",
                detail,
            )
        }
    }

    /// A body that is not what the route reads (not JSON, not an object).
    pub fn malformed_body(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Code::MalformedBody, "Bad request", detail)
    }

    /// A header that is not in its documented form.
    pub fn malformed_header(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Code::MalformedHeader, "Bad request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, Code::Unauthenticated, "Unauthorized", detail)
    }

    /// No such route (resources that are not found are [`Error::NotFound`]).
    pub fn unknown_route(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::UnknownRoute, "Not found", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "Unsupported media type",
            detail,
        )
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            "Payload too large",
            detail,
        )
    }

    /// Renders the problem. `instance` is the request path; 5xx bodies
    /// say nothing of the cause (it is in the log, under the request id).
    pub fn into_response(self, instance: Option<&str>, request_id: Option<&str>) -> Response<Body> {
        let body = ProblemBody {
            type_uri: format!("/problems/{}", self.code.kind()),
            title: self.title,
            status: self.status.as_u16(),
            code: self.code.as_str(),
            detail: &self.detail,
            instance,
            request_id,
            errors: &self.errors,
        };
        let json = serde_json::to_string(&body).expect("a problem serialises to JSON");
        let mut builder = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, CONTENT_TYPE);
        if let Some(seconds) = self.retry_after {
            builder = builder.header(header::RETRY_AFTER, seconds);
        }
        if let Some(etag) = &self.current_etag {
            builder = builder.header(header::ETAG, etag);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            builder = builder.header(header::WWW_AUTHENTICATE, "Bearer");
        }
        builder.body(Body::Text(json)).expect("status and headers are valid")
    }
}

/// Logs a server-side failure with its whole source chain.
fn log_chain(what: &str, source: &BoxError) {
    let mut chain = source.to_string();
    let mut next = source.source();
    while let Some(cause) = next {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        next = cause.source();
    }
    tracing::error!(error = %chain, "{what}");
}

impl From<Error> for Problem {
    fn from(err: Error) -> Self {
        match err {
            Error::Invalid(errors) => Problem::validation(errors),
            Error::NotFound { .. } => Problem::new(StatusCode::NOT_FOUND, Code::NotFound, "Not found", err.to_string()),
            Error::Gone { .. } => Problem::new(StatusCode::GONE, Code::Purged, "Gone", err.to_string()),
            Error::Conflict(code, detail) => Problem::new(StatusCode::CONFLICT, code, "Conflict", detail),
            Error::Forbidden(code, detail) => Problem::new(StatusCode::FORBIDDEN, code, "Forbidden", detail),
            Error::Unprocessable(code, detail) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, "Unprocessable request", detail)
            }
            Error::Contended(detail) => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Code::Contended,
                    "Service unavailable",
                    detail,
                )
            },
            Error::PreconditionFailed { current, .. } => Problem {
                current_etag: Some(super::response::etag(current)),
                ..Problem::new(
                    StatusCode::PRECONDITION_FAILED,
                    Code::VersionMismatch,
                    "Precondition failed",
                    err.to_string(),
                )
            },
            Error::Throttled => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    Code::Throttled,
                    "Too many requests",
                    "the database is throttling requests; retry after a pause",
                )
            },
            Error::Unavailable(source) => {
                log_chain("database unavailable", &source);
                Problem {
                    retry_after: Some(2),
                    ..Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        Code::Unavailable,
                        "Service unavailable",
                        "the database did not answer in time; retry shortly",
                    )
                }
            }
            Error::Internal(source) => {
                log_chain("internal error", &source);
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Code::Internal,
                    "Internal error",
                    "an unexpected error occurred; quote the request id when reporting it",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(p: Problem) -> (u16, serde_json::Value, Response<Body>) {
        let r = p.into_response(Some("/v1/x"), Some("req-1"));
        let v = match r.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => panic!("text body"),
        };
        (r.status().as_u16(), v, r)
    }

    #[test]
    fn validation_lists_every_error() {
        let (status, v, r) = body(Problem::validation(vec![
            FieldError::new("a", "x"),
            FieldError::new("b", "y"),
        ]));
        assert_eq!(status, 400);
        assert_eq!(r.headers()["content-type"], CONTENT_TYPE);
        assert_eq!(v["type"], "/problems/validation-error");
        assert_eq!(v["code"], "validation_failed");
        assert_eq!(v["errors"].as_array().unwrap().len(), 2);
        assert_eq!(v["instance"], "/v1/x");
        assert_eq!(v["requestId"], "req-1");
    }

    #[test]
    fn server_errors_are_opaque() {
        let (status, v, _) = body(Error::internal("secret table name leaked").into());
        assert_eq!(status, 500);
        assert!(!v.to_string().contains("secret"));
    }

    #[test]
    fn throttling_says_when_to_retry() {
        let (status, _, r) = body(Error::Throttled.into());
        assert_eq!((status, r.headers()["retry-after"].to_str().unwrap()), (429, "1"));
        let (status, _, r) = body(Error::Unavailable("timeout".into()).into());
        assert_eq!((status, r.headers()["retry-after"].to_str().unwrap()), (503, "2"));
    }
}
