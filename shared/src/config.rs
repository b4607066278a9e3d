//! Configuration from the environment, read once at init. A function with a
//! bad configuration fails at start, never in the middle of a request.

use crate::auth::AuthConfig;

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name}: {message}")]
    Invalid { name: &'static str, message: String },
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `TABLE_NAME`: the single table.
    pub table_name: String,
    /// `DYNAMODB_ENDPOINT`: set locally (DynamoDB Local); unset in AWS.
    pub dynamodb_endpoint: Option<String>,
    /// `CURSOR_SECRET`: signs list cursors (at least 16 bytes).
    pub cursor_secret: Vec<u8>,
    /// `LIST_SHARDS`: list partitions per list (1–16, default 1). May be
    /// raised on a live table, never lowered.
    pub list_shards: u16,
    /// `ROLES_CLAIM`, `ADMIN_ROLE`, `CREATOR_ROLE`.
    pub auth: AuthConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = get("TABLE_NAME")
            .filter(|v| !v.is_empty())
            .ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let cursor_secret = get("CURSOR_SECRET")
            .ok_or(ConfigError::Missing("CURSOR_SECRET"))?
            .into_bytes();
        if cursor_secret.len() < 16 {
            return Err(ConfigError::Invalid {
                name: "CURSOR_SECRET",
                message: "must have at least 16 bytes".into(),
            });
        }
        let list_shards = match get("LIST_SHARDS") {
            None => 1,
            Some(v) => v
                .parse::<u16>()
                .ok()
                .filter(|n| (1..=16).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "LIST_SHARDS",
                    message: format!("must be a whole number from 1 to 16, not '{v}'"),
                })?,
        };
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let defaults = AuthConfig::default();
        let auth = AuthConfig {
            roles_claim: non_empty("ROLES_CLAIM").unwrap_or(defaults.roles_claim),
            admin_role: non_empty("ADMIN_ROLE").unwrap_or(defaults.admin_role),
            creator_role: non_empty("CREATOR_ROLE"),
        };
        Ok(Self {
            table_name,
            dynamodb_endpoint: non_empty("DYNAMODB_ENDPOINT"),
            cursor_secret,
            list_shards,
            auth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn reads_and_defaults() {
        let c = config(&[("TABLE_NAME", "t"), ("CURSOR_SECRET", "0123456789abcdef")]).unwrap();
        assert_eq!(
            (c.table_name.as_str(), c.list_shards, c.dynamodb_endpoint),
            ("t", 1, None)
        );
    }

    #[test]
    fn refuses_bad_values() {
        assert!(matches!(config(&[]), Err(ConfigError::Missing("TABLE_NAME"))));
        assert!(matches!(
            config(&[("TABLE_NAME", "t"), ("CURSOR_SECRET", "short")]),
            Err(ConfigError::Invalid { .. })
        ));
        let bad_shards = [
            ("TABLE_NAME", "t"),
            ("CURSOR_SECRET", "0123456789abcdef"),
            ("LIST_SHARDS", "0"),
        ];
        assert!(matches!(
            config(&bad_shards),
            Err(ConfigError::Invalid {
                name: "LIST_SHARDS",
                ..
            })
        ));
    }
}
