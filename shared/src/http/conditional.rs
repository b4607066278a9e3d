//! Conditional requests (RFC 9110): ETags are the tenant version, `If-Match`
//! guards writes, `If-None-Match` turns a repeated read into a 304.
//!
//! `If-Match` is compared in one place: here it only becomes the
//! [`Expected`] versions, which the write's service checks against the
//! version it finds ([`Expected::allows`]), inside its retry loop.

use http::header::{HeaderName, IF_MATCH, IF_NONE_MATCH};
use lambda_http::Request;

use super::Problem;
use crate::service::Expected;

/// What an `If-Match` or `If-None-Match` header asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current version.
    Any,
    /// Entity tags naming versions; `weak` marks `W/` tags.
    Versions(Vec<(u64, bool)>),
}

impl Precondition {
    /// Weak comparison, as `If-None-Match` uses.
    pub fn matches_weakly(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Versions(tags) => tags.iter().any(|&(v, _)| v == version),
        }
    }

    /// What a write guarded by this `If-Match` may find: the strong tags'
    /// versions (weak tags never match, RFC 9110 section 13.1.1).
    pub fn expected(&self) -> Expected {
        match self {
            Self::Any => Expected::Any,
            Self::Versions(tags) => Expected::OneOf(tags.iter().filter(|t| !t.1).map(|t| t.0).collect()),
        }
    }
}

fn parse(name: &HeaderName, req: &Request) -> Result<Option<Precondition>, Problem> {
    let Some(value) = req.headers().get(name) else {
        return Ok(None);
    };
    let invalid = || Problem::malformed_header(format!("{name} must be * or entity tags such as \"3\""));
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text == "*" {
        return Ok(Some(Precondition::Any));
    }
    let mut tags = Vec::new();
    for tag in text.split(',').map(str::trim) {
        let (weak, quoted) = match tag.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        let inner = quoted
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .ok_or_else(invalid)?;
        // A well-formed tag that is not one of ours matches nothing.
        match inner.parse::<u64>() {
            Ok(version) => tags.push((version, weak)),
            Err(_) if inner.bytes().all(|b| b != b'"') => tags.push((0, weak)),
            Err(_) => return Err(invalid()),
        }
    }
    Ok(Some(Precondition::Versions(tags)))
}

pub fn if_match(req: &Request) -> Result<Option<Precondition>, Problem> {
    parse(&IF_MATCH, req)
}

pub fn if_none_match(req: &Request) -> Result<Option<Precondition>, Problem> {
    parse(&IF_NONE_MATCH, req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn with(header: &str, value: &str) -> Request {
        http::Request::builder()
            .header(header, value)
            .body(Body::Empty)
            .unwrap()
    }

    #[test]
    fn parses_tags_and_compares() {
        let p = if_match(&with("if-match", "\"3\", W/\"4\"")).unwrap().unwrap();
        assert!(p.expected().allows(3));
        assert!(!p.expected().allows(4));
        assert!(p.matches_weakly(4));
        assert_eq!(if_match(&with("if-match", "*")).unwrap(), Some(Precondition::Any));
        let foreign = if_match(&with("if-match", "\"abc\"")).unwrap().unwrap();
        assert!(!foreign.expected().allows(1));
    }

    #[test]
    fn refuses_unquoted_tags() {
        assert_eq!(if_match(&with("if-match", "3")).unwrap_err().status.as_u16(), 400);
        assert_eq!(
            if_none_match(&with("if-none-match", "W/3"))
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
    }
}
