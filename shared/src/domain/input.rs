//! Reading a JSON object field by field while collecting every violation.
//!
//! Serde's `deny_unknown_fields` stops at the first problem; API users want
//! all of them at once, with the path of each field. [`ObjectReader`] hands
//! out typed values, remembers which keys it was asked about, and reports the
//! rest as unknown.

use serde_json::{Map, Value};

use crate::FieldError;

/// The result of parsing one value: errors carry paths relative to that
/// value (`""` is the value itself).
pub type Parsed<T> = Result<T, Vec<FieldError>>;

/// A single error about the value being parsed.
pub fn reject<T>(message: impl Into<String>) -> Parsed<T> {
    Err(vec![FieldError::new("", message)])
}

/// Joins a parent path and a relative one: `a` + `b` → `a.b`, `a` + `[0]` → `a[0]`.
pub fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_owned(),
        (_, true) => parent.to_owned(),
        _ if child.starts_with('[') => format!("{parent}{child}"),
        _ => format!("{parent}.{child}"),
    }
}

/// Re-roots relative errors under `parent`.
pub fn nest(parent: &str, errors: Vec<FieldError>) -> impl Iterator<Item = FieldError> + '_ {
    errors.into_iter().map(move |e| FieldError {
        field: join_path(parent, &e.field),
        message: e.message,
    })
}

/// The JSON type of a value, for messages such as "must be a string, not a number".
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn as_str(value: &Value) -> Parsed<&str> {
    value
        .as_str()
        .ok_or_else(|| vec![FieldError::new("", format!("must be a string, not {}", kind_of(value)))])
}

pub fn as_bool(value: &Value) -> Parsed<bool> {
    value.as_bool().ok_or_else(|| {
        vec![FieldError::new(
            "",
            format!("must be a boolean, not {}", kind_of(value)),
        )]
    })
}

pub fn as_object(value: &Value) -> Parsed<&Map<String, Value>> {
    value.as_object().ok_or_else(|| {
        vec![FieldError::new(
            "",
            format!("must be an object, not {}", kind_of(value)),
        )]
    })
}

pub fn as_array(value: &Value) -> Parsed<&Vec<Value>> {
    value
        .as_array()
        .ok_or_else(|| vec![FieldError::new("", format!("must be an array, not {}", kind_of(value)))])
}

/// Free text of `min..=max` characters without control characters
/// (`multiline` allows line breaks and tabs, for descriptions).
pub fn text(value: &Value, min: usize, max: usize, multiline: bool) -> Parsed<String> {
    let s = as_str(value)?;
    let len = s.chars().count();
    if len < min {
        return reject(if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must have at least {min} characters")
        });
    }
    if len > max {
        return reject(format!("must have at most {max} characters (has {len})"));
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !s.chars().all(allowed) {
        return reject("must not contain control characters");
    }
    Ok(s.to_owned())
}

/// A string matching a simple character-class rule, for identifiers.
pub fn token(value: &Value, max: usize, allowed: fn(char) -> bool, rule: &str) -> Parsed<String> {
    let s = as_str(value)?;
    if s.is_empty() {
        return reject("must not be empty");
    }
    if s.chars().count() > max {
        return reject(format!("must have at most {max} characters"));
    }
    if !s.chars().all(allowed) {
        return reject(format!("may contain only {rule}"));
    }
    Ok(s.to_owned())
}

/// A field that may be absent, explicitly `null`, or a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence<T> {
    Absent,
    Null,
    Value(T),
}

/// Reads the fields of one JSON object, collecting errors and unknown keys.
pub struct ObjectReader<'a> {
    object: &'a Map<String, Value>,
    path: String,
    asked: Vec<&'a str>,
    errors: Vec<FieldError>,
}

impl<'a> ObjectReader<'a> {
    /// `path` is where this object sits in the document (`""` for the root).
    pub fn new(object: &'a Map<String, Value>, path: &str) -> Self {
        Self {
            object,
            path: path.to_owned(),
            asked: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A field that may be absent; `null` counts as absent (JSON Merge Patch
    /// and PUT both use it to clear a value).
    pub fn optional<T>(&mut self, key: &'a str, parse: impl FnOnce(&Value) -> Parsed<T>) -> Option<T> {
        self.asked.push(key);
        match self.object.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => self.keep(key, parse(value)),
        }
    }

    /// A field where absent and `null` mean different things.
    pub fn nullable<T>(&mut self, key: &'a str, parse: impl FnOnce(&Value) -> Parsed<T>) -> Presence<T> {
        self.asked.push(key);
        match self.object.get(key) {
            None => Presence::Absent,
            Some(Value::Null) => Presence::Null,
            Some(value) => self.keep(key, parse(value)).map_or(Presence::Absent, Presence::Value),
        }
    }

    /// A field that must be present and not null.
    pub fn required<T>(&mut self, key: &'a str, parse: impl FnOnce(&Value) -> Parsed<T>) -> Option<T> {
        self.asked.push(key);
        match self.object.get(key) {
            None | Some(Value::Null) => {
                self.error(key, "is required");
                None
            }
            Some(value) => self.keep(key, parse(value)),
        }
    }

    /// Fields the server owns: known, but a client may not set them here.
    pub fn read_only(&mut self, keys: &[&'a str], why: &str) {
        for key in keys {
            self.asked.push(key);
            if self.object.contains_key(*key) {
                self.error(key, why);
            }
        }
    }

    /// Records an error about `key` found by a rule that spans several fields.
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(join_path(&self.path, key), message));
    }

    /// Ends the read: every key nobody asked about is an error.
    pub fn finish(mut self) -> Vec<FieldError> {
        let mut unknown: Vec<&String> = self
            .object
            .keys()
            .filter(|k| !self.asked.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for key in unknown {
            self.errors
                .push(FieldError::new(join_path(&self.path, key), "is not a known field"));
        }
        self.errors
    }

    fn keep<T>(&mut self, key: &str, parsed: Parsed<T>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(errors) => {
                let at = join_path(&self.path, key);
                self.errors.extend(nest(&at, errors));
                None
            }
        }
    }
}

/// Parses a nested object with `read`, returning its relative errors.
pub fn object<T>(value: &Value, read: impl FnOnce(&mut ObjectReader<'_>) -> Option<T>) -> Parsed<T> {
    let map = as_object(value)?;
    let mut reader = ObjectReader::new(map, "");
    let parsed = read(&mut reader);
    let errors = reader.finish();
    match parsed {
        Some(value) if errors.is_empty() => Ok(value),
        _ if errors.is_empty() => reject("is invalid"),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_error_with_paths_and_unknown_fields() {
        let doc = json!({"name": 3, "extra": true, "inner": {"x": "", "y": 1}});
        let map = doc.as_object().unwrap();
        let mut r = ObjectReader::new(map, "");
        r.required("name", |v| text(v, 1, 10, false));
        r.required("missing", |v| text(v, 1, 10, false));
        r.optional("inner", |v| {
            object(v, |o| {
                let x = o.required("x", |v| text(v, 1, 10, false));
                x.map(|_| ())
            })
        });
        let errors = r.finish();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "missing", "inner.x", "inner.y", "extra"]);
        assert_eq!(errors[0].message, "must be a string, not a number");
        assert_eq!(errors[3].message, "is not a known field");
    }

    #[test]
    fn paths_join_arrays_and_objects() {
        assert_eq!(join_path("tags", "[2]"), "tags[2]");
        assert_eq!(join_path("a", "b"), "a.b");
        assert_eq!(join_path("", "b"), "b");
        assert_eq!(join_path("a", ""), "a");
    }

    #[test]
    fn text_counts_characters_not_bytes_and_refuses_controls() {
        assert!(text(&json!("ééé"), 1, 3, false).is_ok());
        assert!(text(&json!("éééé"), 1, 3, false).is_err());
        assert!(text(&json!("a\nb"), 1, 9, false).is_err());
        assert!(text(&json!("a\nb"), 1, 9, true).is_ok());
        assert!(text(&json!(""), 1, 9, true).is_err());
    }
}
