//! Request bodies: size, content type and JSON syntax checked before any
//! field is read, each failure with its own status and a clear message.

use http::header;
use lambda_http::{Body, Request};
use serde_json::{Map, Value};

use super::Problem;

/// Largest body accepted: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

pub const JSON: &str = "application/json";
pub const MERGE_PATCH: &str = "application/merge-patch+json";

fn bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// The media type of the request without parameters, lowercased, and
/// whether its charset (if any) is UTF-8.
fn media_type(req: &Request) -> Option<(String, bool)> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mut parts = value.split(';');
    let media = parts.next()?.trim().to_ascii_lowercase();
    let utf8 = parts.all(|p| match p.trim().split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
            v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    });
    Some((media, utf8))
}

/// A required JSON object body whose media type is one of `accepted`.
pub fn json_object(req: &Request, accepted: &[&str]) -> Result<Map<String, Value>, Problem> {
    optional_json_object(req, accepted)?.ok_or_else(|| Problem::bad_request("a JSON object body is required"))
}

/// A JSON object body, or `None` when the body is empty.
pub fn optional_json_object(req: &Request, accepted: &[&str]) -> Result<Option<Map<String, Value>>, Problem> {
    let raw = bytes(req);
    if raw.len() > MAX_BODY_BYTES {
        return Err(Problem::payload_too_large(format!(
            "the body has {} bytes; the limit is {MAX_BODY_BYTES} bytes (1 MiB)",
            raw.len()
        )));
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match media_type(req) {
        Some((media, true)) if accepted.contains(&media.as_str()) => {}
        Some((_, false)) => {
            return Err(Problem::unsupported_media_type(
                "the body must be UTF-8 (charset=utf-8)",
            ))
        }
        Some((media, _)) => {
            return Err(Problem::unsupported_media_type(format!(
                "Content-Type '{media}' is not accepted here; use {}",
                accepted.join(" or ")
            )))
        }
        None => {
            return Err(Problem::unsupported_media_type(format!(
                "a Content-Type header is required; use {}",
                accepted.join(" or ")
            )))
        }
    }
    let value: Value =
        serde_json::from_slice(raw).map_err(|e| Problem::bad_request(format!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(Some(map)),
        other => Err(Problem::bad_request(format!(
            "the body must be a JSON object, not {}",
            crate::domain::input::kind_of(&other)
        ))),
    }
}

/// A raw upload: its media type (one of `accepted`) and bytes, at most
/// `limit` bytes (413 naming the limit), not empty (400).
pub fn upload<'a>(req: &'a Request, accepted: &[&str], limit: usize) -> Result<(String, &'a [u8]), Problem> {
    let raw = bytes(req);
    if raw.len() > limit {
        return Err(Problem::payload_too_large(format!(
            "the body has {} bytes; the limit is {limit} bytes ({} KiB)",
            raw.len(),
            limit / 1024
        )));
    }
    if raw.is_empty() {
        return Err(Problem::bad_request(format!(
            "a body is required: {}",
            accepted.join(" or ")
        )));
    }
    match media_type(req) {
        Some((media, _)) if accepted.contains(&media.as_str()) => Ok((media, raw)),
        Some((media, _)) => Err(Problem::unsupported_media_type(format!(
            "Content-Type '{media}' is not accepted here; use {}",
            accepted.join(" or ")
        ))),
        None => Err(Problem::unsupported_media_type(format!(
            "a Content-Type header is required; use {}",
            accepted.join(" or ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(content_type: Option<&str>, body: &str) -> Request {
        let mut b = http::Request::builder();
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        b.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn accepts_json_objects_with_charset() {
        let map = json_object(&req(Some("application/json; charset=UTF-8"), r#"{"a":1}"#), &[JSON]).unwrap();
        assert_eq!(map["a"], 1);
    }

    #[test]
    fn statuses_for_each_failure() {
        let status = |r: Result<_, Problem>| r.unwrap_err().status.as_u16();
        assert_eq!(status(json_object(&req(None, "{}"), &[JSON])), 415);
        assert_eq!(status(json_object(&req(Some("text/plain"), "{}"), &[JSON])), 415);
        assert_eq!(
            status(json_object(
                &req(Some("application/json; charset=latin1"), "{}"),
                &[JSON]
            )),
            415
        );
        assert_eq!(status(json_object(&req(Some(JSON), "{"), &[JSON])), 400);
        assert_eq!(status(json_object(&req(Some(JSON), "[1]"), &[JSON])), 400);
        assert_eq!(status(json_object(&req(Some(JSON), ""), &[JSON])), 400);
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(status(json_object(&req(Some(JSON), &big), &[JSON])), 413);
    }

    #[test]
    fn empty_optional_body_is_none() {
        assert_eq!(optional_json_object(&req(None, ""), &[JSON]).unwrap(), None);
    }
}
