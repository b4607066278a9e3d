//! Successful responses: JSON bodies, ETags, `Location`, 204 and 304; the
//! headers every response carries.

use http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

/// What every answer of a function carries, set where every answer passes
/// ([`super::Invocation::end`]): `X-Content-Type-Options: nosniff` (a
/// browser never reads a body as another type than the one given), and
/// `Cache-Control: no-store` unless the response chose its own caching (only
/// the public API document does): tenant data, problems included, is never
/// kept by a browser or shared cache. ETags and `If-None-Match` still work
/// for clients that keep what they read themselves.
pub fn harden(response: &mut Response<Body>) {
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// The strong ETag of a version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    let text = serde_json::to_string(body).expect("response bodies serialise to JSON");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .expect("status and headers are valid")
}

/// A single resource with its ETag.
pub fn resource<T: Serialize>(status: StatusCode, body: &T, version: u64) -> Response<Body> {
    let mut response = json(status, body);
    response.headers_mut().insert(
        header::ETAG,
        etag(version).parse().expect("an ETag is a valid header value"),
    );
    response
}

/// A created resource: 201, ETag and `Location`.
pub fn created<T: Serialize>(body: &T, version: u64, location: &str) -> Response<Body> {
    let mut response = resource(StatusCode::CREATED, body, version);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub fn not_modified(version: u64) -> Response<Body> {
    Response::builder()
        .status(StatusCode::NOT_MODIFIED)
        .header(header::ETAG, etag(version))
        .body(Body::Empty)
        .expect("status and headers are valid")
}

pub fn no_content() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .expect("status is valid")
}

/// The one list shape of the API: `items`, `count` (items on this page),
/// `nextCursor` (null on the last page) and, when asked for, `total`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<'a, T> {
    items: &'a [T],
    count: usize,
    next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
}

pub fn list<T: Serialize>(items: &[T], next_cursor: Option<String>, total: Option<u64>) -> Response<Body> {
    json(
        StatusCode::OK,
        &ListBody {
            items,
            count: items.len(),
            next_cursor,
            total,
        },
    )
}
