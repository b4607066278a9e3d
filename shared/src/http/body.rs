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
    optional_json_object(req, accepted)?.ok_or_else(|| Problem::malformed_body("a JSON object body is required"))
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
    let value = parse_json(raw).map_err(|e| match e {
        JsonError::Syntax(e) => Problem::malformed_body(format!("the body is not valid JSON: {e}")),
        JsonError::Duplicate(path) => duplicate_key(path),
    })?;
    match value {
        Value::Object(map) => Ok(Some(map)),
        other => Err(Problem::malformed_body(format!(
            "the body must be a JSON object, not {}",
            crate::domain::input::kind_of(&other)
        ))),
    }
}

/// Why JSON text was refused.
#[derive(Debug)]
pub enum JsonError {
    Syntax(serde_json::Error),
    /// A key given twice in one object: its path (`contactInformation.email`, `x[0].a`).
    Duplicate(String),
}

/// The 400 for a key given twice.
pub fn duplicate_key(path: String) -> Problem {
    Problem::validation(vec![crate::FieldError::new(
        path,
        "is given more than once: each key may appear once per object",
    )])
}

/// JSON text as a value, refusing a key given twice in one object at any
/// depth. serde_json keeps the last of duplicates; a proxy, validator or
/// signature check in front may have read the first, so such a body means
/// two different things and is refused (RFC 8259 leaves it undefined).
pub fn parse_json(raw: &[u8]) -> Result<Value, JsonError> {
    use serde::de::DeserializeSeed;
    let duplicate = std::cell::RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    let parsed = UniqueKeys {
        path: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(path)) => Err(JsonError::Duplicate(path)),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(JsonError::Syntax(e)),
    }
}

/// The path of the first key given twice in `raw` (JSON), if any; `None`
/// for JSON without duplicates and for text that is not JSON at all (the
/// caller's own parsing says what is wrong with it).
pub fn first_duplicate_key(raw: &[u8]) -> Option<String> {
    match parse_json(raw) {
        Err(JsonError::Duplicate(path)) => Some(path),
        _ => None,
    }
}

/// Builds a [`Value`] as serde_json does, but fails on a duplicate key,
/// recording its path.
struct UniqueKeys<'a> {
    path: String,
    duplicate: &'a std::cell::RefCell<Option<String>>,
}

impl UniqueKeys<'_> {
    fn at(&self, path: String) -> Self {
        UniqueKeys {
            path,
            duplicate: self.duplicate,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.at(format!("{}[{}]", self.path, items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path);
                return Err(serde::de::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(self.at(path))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
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
        return Err(Problem::malformed_body(format!(
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
    fn a_duplicate_key_at_any_depth_is_refused_with_its_path() {
        let field = |body: &str| {
            let problem = json_object(&req(Some(JSON), body), &[JSON]).unwrap_err();
            assert_eq!(problem.status.as_u16(), 400, "{body}");
            problem.errors.iter().map(|e| e.field.clone()).collect::<Vec<_>>()
        };
        assert_eq!(field(r#"{"a": 1, "a": 1}"#), ["a"]);
        assert_eq!(
            field(r#"{"a": {"b": [1, {"c": 1, "d": {"e": 0, "e": 0}}]}}"#),
            ["a.b[1].d.e"]
        );
        assert_eq!(field(r#"[{"a": 1}, {"b": 1, "b": 2}]"#), ["[1].b"]);
        // Escapes name the same key.
        assert_eq!(field(r#"{"name": 1, "n\u0061me": 2}"#), ["name"]);
        // The same key in sibling objects, and every kind of value, is fine.
        let map = json_object(
            &req(
                Some(JSON),
                r#"{"x": {"k": 1}, "y": {"k": 1.5}, "z": [null, true, "s", -3, {"k": []}]}"#,
            ),
            &[JSON],
        )
        .unwrap();
        assert_eq!(
            serde_json::Value::Object(map),
            serde_json::json!({"x": {"k": 1}, "y": {"k": 1.5}, "z": [null, true, "s", -3, {"k": []}]})
        );
        assert_eq!(first_duplicate_key(br#"{"a": 1, "b": {"a": 1}}"#), None);
        assert_eq!(
            first_duplicate_key(br#"{"a": 1, "a"#),
            None,
            "not JSON: the caller says why"
        );
        assert_eq!(first_duplicate_key(br#"{"a": 1, "a": 2}"#).as_deref(), Some("a"));
        // Syntax errors are still syntax errors.
        let status = |body: &str| {
            json_object(&req(Some(JSON), body), &[JSON])
                .unwrap_err()
                .status
                .as_u16()
        };
        assert_eq!(status(r#"{"a": 1} trailing"#), 400);
    }

    #[test]
    fn empty_optional_body_is_none() {
        assert_eq!(optional_json_object(&req(None, ""), &[JSON]).unwrap(), None);
    }
}
