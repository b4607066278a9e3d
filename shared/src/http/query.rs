//! Query strings read strictly: each parameter at most once (unless it is
//! a list), unknown parameters refused, every problem listed.

use lambda_http::{Request, RequestExt};

use super::cursor::Cursors;
use super::Problem;
use crate::FieldError;

/// A page's size when `limit` is not given, and the largest one can ask for.
pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: u64 = 100;

/// A keyset page's query (and nothing else): `limit` (1–100, default 25)
/// and `cursor`, a position of `T` sealed for this caller and `scope`.
pub fn page<T: serde::de::DeserializeOwned>(
    req: &Request,
    cursors: &Cursors<'_>,
    scope: &str,
) -> Result<(usize, Option<T>), Problem> {
    let mut q = QueryReader::new(req);
    let limit = q.limit();
    let after = q
        .single("cursor")
        .and_then(|raw| q.open_cursor("cursor", &raw, cursors, scope));
    q.finish()?;
    Ok((limit, after))
}

pub struct QueryReader {
    params: lambda_http::aws_lambda_events::query_map::QueryMap,
    /// The query string as sent (which still shows `name=` with no value).
    raw: String,
    asked: Vec<&'static str>,
    errors: Vec<FieldError>,
}

impl QueryReader {
    pub fn new(req: &Request) -> Self {
        Self {
            params: req.query_string_parameters(),
            raw: req.uri().query().unwrap_or_default().to_owned(),
            asked: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A parameter given at most once.
    pub fn single(&mut self, name: &'static str) -> Option<String> {
        self.asked.push(name);
        let values = self.params.all(name)?;
        if values.len() > 1 {
            self.error(name, "must be given at most once");
            return None;
        }
        values.first().map(|v| (*v).to_owned())
    }

    /// Every value of a repeatable parameter.
    pub fn all(&mut self, name: &'static str) -> Vec<String> {
        self.asked.push(name);
        self.params
            .all(name)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Every value of a repeatable parameter, and one empty value for a
    /// `name=` that gives none (which the parsed parameters leave out), so a
    /// parameter that must name something can refuse it.
    pub fn all_or_empty(&mut self, name: &'static str) -> Vec<String> {
        let values = self.all(name);
        let given_empty = self
            .raw
            .split('&')
            .any(|pair| pair == name || pair.strip_suffix('=') == Some(name));
        if values.is_empty() && given_empty {
            return vec![String::new()];
        }
        values
    }

    /// A page's size: `limit`, 1–100, [`DEFAULT_LIMIT`] when not given.
    pub fn limit(&mut self) -> usize {
        self.parsed("limit", integer_in(1, MAX_LIMIT))
            .map_or(DEFAULT_LIMIT, |n| n as usize)
    }

    /// Opens `raw`, the value of parameter `name`: a position sealed for
    /// this caller and `scope`. One that is not is recorded as an error of `name`.
    pub fn open_cursor<T: serde::de::DeserializeOwned>(
        &mut self,
        name: &str,
        raw: &str,
        cursors: &Cursors<'_>,
        scope: &str,
    ) -> Option<T> {
        match cursors.open::<T>(scope, raw) {
            Ok(position) => Some(position),
            Err(e) => {
                self.error(name, e.message);
                None
            }
        }
    }

    /// A parameter parsed by `parse`; its error message is recorded.
    pub fn parsed<T>(&mut self, name: &'static str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let raw = self.single(name)?;
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(name, message);
                None
            }
        }
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(name, message));
    }

    /// Ends the read; unknown parameters are errors.
    pub fn finish(mut self) -> Result<(), Problem> {
        let mut unknown: Vec<&str> = self
            .params
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !self.asked.contains(k))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        for name in unknown {
            self.errors
                .push(FieldError::new(name, "is not a known query parameter"));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.errors))
        }
    }
}

/// An integer within `min..=max`.
pub fn integer_in(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> {
    move |raw| match raw.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from {min} to {max}")),
    }
}

/// `true` or `false`.
pub fn boolean(raw: &str) -> Result<bool, String> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}
