//! Configuration from the environment, read once at init. A function with a
//! bad configuration fails at start, never in the middle of a request.

use crate::auth::{AuthConfig, PermissionPrefix, PermissionsClaims};

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
    /// The secret list cursors are sealed with: `CURSOR_SECRET_ARN` (in AWS)
    /// or `CURSOR_SECRET` (locally). `None` when neither is set, which only
    /// the functions that serve no list accept.
    pub cursor_secret: Option<CursorSecret>,
    /// `LIST_SHARDS`: list partitions per list (1–16, default 1). May be
    /// raised on a live table, never lowered.
    pub list_shards: u16,
    /// `ROLES_CLAIM`, `ADMIN_ROLE`, `CREATOR_ROLE`, `GROUP_PREFIX`,
    /// `PERMISSION_PREFIX`, `PERMISSIONS_CLAIMS`.
    pub auth: AuthConfig,
}

/// Where the cursor secret comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum CursorSecret {
    /// `CURSOR_SECRET`, and during a rotation `CURSOR_SECRET_PREVIOUS`
    /// (locally, in tests): each at least [`MIN_CURSOR_SECRET_BYTES`].
    Inline {
        current: Vec<u8>,
        previous: Option<Vec<u8>>,
    },
    /// `CURSOR_SECRET_ARN`: a Secrets Manager secret, read at init (its
    /// `AWSCURRENT` and, during a rotation, `AWSPREVIOUS` versions). Never
    /// together with `CURSOR_SECRET`: the secret stays out of the environment.
    SecretsManager { secret_id: String },
}

/// The shortest cursor secret accepted.
pub const MIN_CURSOR_SECRET_BYTES: usize = 16;

/// No secret in any log: only where it comes from.
impl std::fmt::Debug for CursorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline { previous, .. } => f
                .debug_struct("Inline")
                .field("previous", &previous.as_ref().map(|_| ".."))
                .finish_non_exhaustive(),
            Self::SecretsManager { secret_id } => {
                f.debug_struct("SecretsManager").field("secret_id", secret_id).finish()
            }
        }
    }
}

impl CursorSecret {
    /// Reads `CURSOR_SECRET_ARN`, or `CURSOR_SECRET` and
    /// `CURSOR_SECRET_PREVIOUS`; `None` when none is set.
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let set = |name: &str| get(name).filter(|v| !v.is_empty());
        let inline = |name: &'static str| {
            set(name)
                .map(|v| {
                    if v.len() < MIN_CURSOR_SECRET_BYTES {
                        Err(ConfigError::Invalid {
                            name,
                            message: format!("must have at least {MIN_CURSOR_SECRET_BYTES} bytes"),
                        })
                    } else {
                        Ok(v.into_bytes())
                    }
                })
                .transpose()
        };
        match set("CURSOR_SECRET_ARN") {
            Some(secret_id) => {
                for name in ["CURSOR_SECRET", "CURSOR_SECRET_PREVIOUS"] {
                    if set(name).is_some() {
                        return Err(ConfigError::Invalid {
                            name,
                            message:
                                "cannot be combined with CURSOR_SECRET_ARN (the secret is read from Secrets Manager)"
                                    .into(),
                        });
                    }
                }
                Ok(Some(Self::SecretsManager { secret_id }))
            }
            None => {
                let previous = inline("CURSOR_SECRET_PREVIOUS")?;
                match inline("CURSOR_SECRET")? {
                    Some(current) => Ok(Some(Self::Inline { current, previous })),
                    None if previous.is_some() => Err(ConfigError::Missing("CURSOR_SECRET")),
                    None => Ok(None),
                }
            }
        }
    }
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
        let cursor_secret = CursorSecret::from_lookup(&get)?;
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
        let auth = AuthConfig::from_lookup(&get)?;
        Ok(Self {
            table_name,
            dynamodb_endpoint: non_empty("DYNAMODB_ENDPOINT"),
            cursor_secret,
            list_shards,
            auth,
        })
    }
}

impl AuthConfig {
    /// `ROLES_CLAIM`, `ADMIN_ROLE`, `CREATOR_ROLE`, `GROUP_PREFIX`,
    /// `PERMISSION_PREFIX` and `PERMISSIONS_CLAIMS` through `get`. A role or
    /// prefix with a space, a bracket or a quote could never be matched as a
    /// whole role (or permission): it is refused at init rather than never
    /// granted. `PERMISSION_PREFIX` empty or unset: none;
    /// `PERMISSIONS_CLAIMS` empty or unset: `scope permissions`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let defaults = AuthConfig::default();
        let token = |name: &'static str, value: String| {
            if crate::auth::is_role_token(&value) {
                Ok(value)
            } else {
                Err(ConfigError::Invalid {
                    name,
                    message: format!("must be one token without spaces, brackets or quotes, not '{value}'"),
                })
            }
        };
        Ok(AuthConfig {
            roles_claim: non_empty("ROLES_CLAIM").unwrap_or(defaults.roles_claim),
            admin_role: token("ADMIN_ROLE", non_empty("ADMIN_ROLE").unwrap_or(defaults.admin_role))?,
            // Unset: the default; set but empty: no creator role.
            creator_role: match get("CREATOR_ROLE") {
                None => defaults.creator_role,
                Some(v) if v.trim().is_empty() => None,
                Some(v) => Some(token("CREATOR_ROLE", v)?),
            },
            group_prefix: token(
                "GROUP_PREFIX",
                non_empty("GROUP_PREFIX").unwrap_or(defaults.group_prefix),
            )?,
            permission_prefix: non_empty("PERMISSION_PREFIX")
                .map(|v| {
                    PermissionPrefix::parse(&v).map_err(|message| ConfigError::Invalid {
                        name: "PERMISSION_PREFIX",
                        message,
                    })
                })
                .transpose()?,
            permissions_claims: match non_empty("PERMISSIONS_CLAIMS") {
                None => defaults.permissions_claims,
                Some(v) => PermissionsClaims::parse(&v).map_err(|message| ConfigError::Invalid {
                    name: "PERMISSIONS_CLAIMS",
                    message,
                })?,
            },
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

    /// Issue 17, items 1 and 2: namespaced roles and the group rule by default,
    /// each configurable; a role or prefix no claim could carry is refused at init.
    #[test]
    fn auth_defaults_and_overrides() {
        let base = [("TABLE_NAME", "t"), ("CURSOR_SECRET", "0123456789abcdef")];
        let auth = config(&base).unwrap().auth;
        assert_eq!(
            (
                auth.roles_claim.as_str(),
                auth.admin_role.as_str(),
                auth.creator_role.as_deref(),
                auth.group_prefix.as_str()
            ),
            ("roles", "tenancy:admin", Some("tenancy:creator"), "group:")
        );
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            config(&vars)
        };
        let auth = with(&[
            ("ADMIN_ROLE", "acme:root"),
            ("CREATOR_ROLE", "acme:onboarding"),
            ("GROUP_PREFIX", "acme-group/"),
        ])
        .unwrap()
        .auth;
        assert_eq!(
            (
                auth.admin_role.as_str(),
                auth.creator_role.as_deref(),
                auth.group_prefix.as_str()
            ),
            ("acme:root", Some("acme:onboarding"), "acme-group/")
        );
        assert_eq!(with(&[("CREATOR_ROLE", "")]).unwrap().auth.creator_role, None);
        for (name, bad) in [
            ("ADMIN_ROLE", "not admin"),
            ("ADMIN_ROLE", "[admin]"),
            ("CREATOR_ROLE", "\"creator\""),
            ("GROUP_PREFIX", "group "),
            ("GROUP_PREFIX", "[g]"),
        ] {
            assert!(
                matches!(with(&[(name, bad)]), Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}={bad}"
            );
        }
    }

    /// Issue 24: the permission prefix (Amazon Cognito's resource server
    /// identifier) and the claims permissions are read from.
    #[test]
    fn permission_settings_default_and_override() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = vec![("TABLE_NAME", "t"), ("CURSOR_SECRET", "0123456789abcdef")];
            vars.extend_from_slice(extra);
            config(&vars).map(|c| c.auth)
        };
        let auth = with(&[]).unwrap();
        assert_eq!(auth.permission_prefix, None);
        assert_eq!(
            auth.permissions_claims.names().collect::<Vec<_>>(),
            ["scope", "permissions"]
        );
        for empty in [
            [("PERMISSION_PREFIX", ""), ("PERMISSIONS_CLAIMS", "")],
            [("PERMISSION_PREFIX", "  "), ("PERMISSIONS_CLAIMS", " ")],
        ] {
            let auth = with(&empty).unwrap();
            assert_eq!(auth.permission_prefix, None);
            assert_eq!(auth.permissions_claims, PermissionsClaims::default());
        }
        let auth = with(&[
            ("PERMISSION_PREFIX", "https://tenancy.example.com/"),
            ("PERMISSIONS_CLAIMS", "scp,roles"),
        ])
        .unwrap();
        assert_eq!(
            auth.permission_prefix.as_ref().map(PermissionPrefix::as_str),
            Some("https://tenancy.example.com/")
        );
        assert_eq!(auth.permissions_claims.names().collect::<Vec<_>>(), ["scp", "roles"]);
        for (name, bad, says) in [
            (
                "PERMISSION_PREFIX",
                "https://tenancy.example.com",
                "'https://tenancy.example.com/'",
            ),
            ("PERMISSION_PREFIX", "tenancy /", "one token"),
            ("PERMISSIONS_CLAIMS", "scp scp", "twice"),
            ("PERMISSIONS_CLAIMS", "[scp]", "claim name"),
            ("PERMISSIONS_CLAIMS", ",", "at least one"),
        ] {
            match with(&[(name, bad)]) {
                Err(e @ ConfigError::Invalid { name: n, .. }) if n == name => {
                    let shown = e.to_string();
                    assert!(shown.starts_with(&format!("environment variable {name}: ")), "{shown}");
                    assert!(shown.contains(says), "{name}={bad}: {shown}");
                }
                other => panic!("{name}={bad}: {other:?}"),
            }
        }
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

    /// Issue 17, item 13: in AWS the cursor secret is named by its ARN and
    /// read at init (never in the environment); locally it is given, with
    /// the previous one during a rotation.
    #[test]
    fn reads_where_the_cursor_secret_comes_from() {
        let secret = |vars: &[(&str, &str)]| {
            let mut all = vec![("TABLE_NAME", "t")];
            all.extend_from_slice(vars);
            config(&all).map(|c| c.cursor_secret)
        };
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cursor-AbCdEf";
        assert_eq!(
            secret(&[("CURSOR_SECRET_ARN", arn)]).unwrap(),
            Some(CursorSecret::SecretsManager { secret_id: arn.into() })
        );
        assert_eq!(
            secret(&[("CURSOR_SECRET", "0123456789abcdef")]).unwrap(),
            Some(CursorSecret::Inline {
                current: b"0123456789abcdef".to_vec(),
                previous: None
            })
        );
        assert_eq!(
            secret(&[
                ("CURSOR_SECRET", "0123456789abcdef"),
                ("CURSOR_SECRET_PREVIOUS", "the-old-secret-0123")
            ])
            .unwrap(),
            Some(CursorSecret::Inline {
                current: b"0123456789abcdef".to_vec(),
                previous: Some(b"the-old-secret-0123".to_vec())
            })
        );
        // Neither: only a function that serves no list may start so.
        assert_eq!(secret(&[]).unwrap(), None);
        assert_eq!(secret(&[("CURSOR_SECRET", "")]).unwrap(), None);

        for (vars, field) in [
            (
                &[("CURSOR_SECRET_ARN", arn), ("CURSOR_SECRET", "0123456789abcdef")][..],
                "CURSOR_SECRET",
            ),
            (
                &[
                    ("CURSOR_SECRET_ARN", arn),
                    ("CURSOR_SECRET_PREVIOUS", "0123456789abcdef"),
                ],
                "CURSOR_SECRET_PREVIOUS",
            ),
            (&[("CURSOR_SECRET", "short")], "CURSOR_SECRET"),
            (
                &[
                    ("CURSOR_SECRET", "0123456789abcdef"),
                    ("CURSOR_SECRET_PREVIOUS", "short"),
                ],
                "CURSOR_SECRET_PREVIOUS",
            ),
        ] {
            match secret(vars) {
                Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, field, "{vars:?}"),
                other => panic!("{vars:?}: {other:?}"),
            }
        }
        assert!(matches!(
            secret(&[("CURSOR_SECRET_PREVIOUS", "0123456789abcdef")]),
            Err(ConfigError::Missing("CURSOR_SECRET"))
        ));
        let shown = format!("{:?}", secret(&[("CURSOR_SECRET", "0123456789abcdef")]).unwrap());
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }
}
