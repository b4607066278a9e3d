//! The part of Lambda's event filtering that the stream functions' filter
//! criteria use, so the local stream poller keeps exactly the records
//! template.yaml's filters would let through: every key of a pattern must be
//! in the record and match; a list of values matches a value equal to one of
//! them; a function's patterns are alternatives.

use serde::Serialize;
use serde_json::Value;

/// Whether `record` (as the JSON Lambda filters) matches `pattern`.
pub fn matches(pattern: &Value, record: &Value) -> bool {
    match (pattern, record) {
        (Value::Object(pattern), Value::Object(record)) => pattern
            .iter()
            .all(|(key, p)| record.get(key).is_some_and(|r| matches(p, r))),
        (Value::Array(choices), value) => choices.contains(value),
        _ => false,
    }
}

/// Whether any of `patterns` (JSON text, as in template.yaml) lets `record` through.
pub fn matches_any(patterns: &[&str], record: &impl Serialize) -> bool {
    let Ok(record) = serde_json::to_value(record) else {
        return false;
    };
    patterns
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(p).ok())
        .any(|pattern| matches(&pattern, &record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_must_match_and_lists_are_alternatives() {
        let pattern = json!({"a": {"b": ["x", "y"]}});
        assert!(matches(&pattern, &json!({"a": {"b": "y", "c": 1}, "d": 2})));
        assert!(!matches(&pattern, &json!({"a": {"b": "z"}})));
        assert!(!matches(&pattern, &json!({"a": {}})));
        assert!(matches_any(&[r#"{"a": ["q"]}"#, r#"{"a": ["r"]}"#], &json!({"a": "r"})));
    }
}
