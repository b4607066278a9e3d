//! Successful responses: JSON bodies, ETags, `Location`, 204 and 304.

use http::{header, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

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
