//! The composition root: what a function builds once at init and shares
//! across invocations. [`App`] is what every function needs (the
//! configuration and the store); [`HttpApp`] adds what only the HTTP
//! functions need (the cursor keys; the claims are read with
//! `config.auth`), so the stream and schedule functions (jobs, cleanup,
//! notifier) start without a cursor secret, and without the permission to
//! read one.
//!
//! In AWS the cursor secret is a Secrets Manager secret named by
//! `CURSOR_SECRET_ARN`, read here at init with one `GetSecretValue` per
//! version stage (`AWSCURRENT`, and `AWSPREVIOUS` if the secret has been
//! rotated), through a client built from the same SDK configuration as the
//! DynamoDB client and dropped once read. The keys are kept for the life of
//! the process: after a rotation, new processes seal with the new secret and
//! still open cursors sealed with the old one (see [`crate::http::cursor`]).

use std::ops::Deref;

use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

use crate::auth::AuthConfig;
use crate::config::{Config, ConfigError, CursorSecret, MIN_CURSOR_SECRET_BYTES};
use crate::http::cursor::CursorKeys;
use crate::http::Edge;
use crate::store::{self, Store};

/// What every function builds at init: its configuration and its store.
pub struct App {
    pub config: Config,
    pub store: Store,
}

impl App {
    pub fn new(config: Config, connection: store::Connection) -> Self {
        let store = Store::new(connection, config.table_name.clone(), config.list_shards);
        Self { config, store }
    }

    /// The init of a function that serves no list (jobs, clean-up,
    /// notifier): no cursor secret is read, so none is needed (nor the
    /// permission to read it).
    pub async fn worker_from_env() -> Result<Self, ConfigError> {
        let sdk_config = load_sdk_config().await;
        Self::worker_from_env_with(&sdk_config)
    }

    /// [`App::worker_from_env`] over an SDK configuration already loaded.
    pub fn worker_from_env_with(sdk_config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self::from_config(Config::from_env()?, sdk_config))
    }

    /// The app of a configuration already read, with its DynamoDB client.
    pub fn from_config(config: Config, sdk_config: &aws_config::SdkConfig) -> Self {
        let connection = store::client(sdk_config, config.dynamodb_endpoint.as_deref());
        Self::new(config, connection)
    }
}

/// What an HTTP function builds at init: the [`App`], and the keys its
/// list cursors are sealed with.
pub struct HttpApp {
    pub app: App,
    pub cursors: CursorKeys,
}

/// An HTTP function is a function: whatever takes an [`App`] takes it too.
impl Deref for HttpApp {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

impl Edge for HttpApp {
    fn auth(&self) -> &AuthConfig {
        &self.app.config.auth
    }

    fn dynamodb_requests(&self) -> u64 {
        self.app.store.requests().total()
    }
}

impl HttpApp {
    /// An app whose cursor secret is given inline (`CURSOR_SECRET`: locally,
    /// in tests), or absent (cursors then open only in this process).
    ///
    /// # Panics
    ///
    /// On a configuration that names a Secrets Manager secret: that is read
    /// at init by [`HttpApp::from_env`], never here.
    pub fn new(config: Config, connection: store::Connection) -> Self {
        let cursors = match &config.cursor_secret {
            Some(CursorSecret::Inline { current, previous }) => CursorKeys::with_previous(current, previous.as_deref()),
            Some(CursorSecret::SecretsManager { .. }) => {
                panic!("HttpApp::new takes an inline CURSOR_SECRET; HttpApp::from_env reads CURSOR_SECRET_ARN")
            }
            None => ephemeral_keys(),
        };
        Self {
            app: App::new(config, connection),
            cursors,
        }
    }

    /// Reads the configuration and the cursor secret and builds the DynamoDB
    /// client: the whole of an HTTP function's init.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let sdk_config = load_sdk_config().await;
        Self::from_env_with(&sdk_config).await
    }

    /// [`HttpApp::from_env`] over an SDK configuration already loaded. The
    /// cursor secret is required.
    pub async fn from_env_with(sdk_config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Self::from_config(Config::from_env()?, sdk_config).await
    }

    /// The app of a configuration already read: its cursor secret is
    /// required, and read from Secrets Manager if it is named there.
    pub async fn from_config(config: Config, sdk_config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let cursors = match &config.cursor_secret {
            None => return Err(ConfigError::Missing("CURSOR_SECRET_ARN (or, locally, CURSOR_SECRET)")),
            Some(CursorSecret::Inline { current, previous }) => CursorKeys::with_previous(current, previous.as_deref()),
            Some(CursorSecret::SecretsManager { secret_id }) => {
                let client = aws_sdk_secretsmanager::Client::new(sdk_config);
                read_cursor_keys(&client, secret_id).await?
            }
        };
        Ok(Self {
            app: App::from_config(config, sdk_config),
            cursors,
        })
    }
}

/// Keys for a process that hands out no cursor: random, never shared.
fn ephemeral_keys() -> CursorKeys {
    let mut secret = [0u8; 32];
    // Without randomness the fixed secret is still never shared: nothing
    // such a process seals leaves it.
    let _ = getrandom::fill(&mut secret);
    CursorKeys::new(&secret)
}

const CURRENT: &str = "AWSCURRENT";
const PREVIOUS: &str = "AWSPREVIOUS";

/// The cursor keys from a Secrets Manager secret: its current version, and
/// its previous one if it has one. Two `GetSecretValue` calls, side by side.
pub async fn read_cursor_keys(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<CursorKeys, ConfigError> {
    let (current, previous) = futures_util::future::join(
        secret_value(client, secret_id, CURRENT),
        secret_value(client, secret_id, PREVIOUS),
    )
    .await;
    let current = current?.ok_or_else(|| invalid(format!("secret {secret_id} has no {CURRENT} version")))?;
    // A previous version that cannot be read only costs the cursors sealed
    // with it (they answer 400): the function still starts.
    let previous = previous.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the cursor secret's previous version cannot be read");
        None
    });
    Ok(CursorKeys::with_previous(&current, previous.as_deref()))
}

fn invalid(message: String) -> ConfigError {
    ConfigError::Invalid {
        name: "CURSOR_SECRET_ARN",
        message,
    }
}

/// One version stage of a secret (`None`: the secret has no such version).
async fn secret_value(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    stage: &str,
) -> Result<Option<Vec<u8>>, ConfigError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await;
    let output = match output {
        Ok(output) => output,
        Err(e)
            if stage != CURRENT
                && matches!(
                    e.as_service_error(),
                    Some(GetSecretValueError::ResourceNotFoundException(_))
                ) =>
        {
            return Ok(None)
        }
        Err(e) => {
            let source = aws_sdk_secretsmanager::error::DisplayErrorContext(e);
            return Err(invalid(format!("cannot read {stage} of {secret_id}: {source}")));
        }
    };
    let value = match (output.secret_string, output.secret_binary) {
        (Some(text), _) => text.into_bytes(),
        (None, Some(blob)) => blob.into_inner(),
        (None, None) => return Err(invalid(format!("{stage} of {secret_id} holds no value"))),
    };
    if value.len() < MIN_CURSOR_SECRET_BYTES {
        return Err(invalid(format!(
            "{stage} of {secret_id} must have at least {MIN_CURSOR_SECRET_BYTES} bytes"
        )));
    }
    Ok(Some(value))
}

/// The SDK configuration from the environment (region, credentials), with
/// the store's HTTPS client ([`crate::store::sdk::http_client`]): what a
/// function's init loads once.
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crate::store::sdk::http_client())
        .load()
        .await
}

#[cfg(test)]
mod tests {
    //! The Secrets Manager read against a stand-in that speaks its JSON
    //! protocol on loopback and counts the calls it answers.

    use super::*;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    type Calls = Arc<Mutex<Vec<(String, String)>>>;

    /// Serves `GetSecretValue` from `stages` (stage → value) on a free port:
    /// its endpoint and the (target, stage) of every request.
    async fn stand_in(stages: HashMap<&'static str, &'static str>) -> (String, Calls) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let calls: Calls = Arc::default();
        let seen = calls.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (stages, seen) = (stages.clone(), seen.clone());
                tokio::spawn(async move {
                    loop {
                        let mut request = Vec::new();
                        let mut buf = [0u8; 4096];
                        let body = loop {
                            let Ok(n) = socket.read(&mut buf).await else { return };
                            if n == 0 {
                                return;
                            }
                            request.extend_from_slice(&buf[..n]);
                            let text = String::from_utf8_lossy(&request).to_string();
                            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                                let length = head
                                    .lines()
                                    .find_map(|l| {
                                        let (k, v) = l.split_once(':')?;
                                        k.eq_ignore_ascii_case("content-length")
                                            .then(|| v.trim().parse().ok())?
                                    })
                                    .unwrap_or(0usize);
                                if body.len() >= length {
                                    let target = head
                                        .lines()
                                        .find_map(|l| {
                                            let (k, v) = l.split_once(':')?;
                                            k.eq_ignore_ascii_case("x-amz-target").then(|| v.trim().to_owned())
                                        })
                                        .unwrap_or_default();
                                    break (target, body.to_owned());
                                }
                            }
                        };
                        let (target, body) = body;
                        let asked: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                        let stage = asked["VersionStage"].as_str().unwrap_or("").to_owned();
                        seen.lock().unwrap().push((target, stage.clone()));
                        let (status, reply) = match stages.get(stage.as_str()) {
                            Some(value) => (
                                "200 OK",
                                serde_json::json!({"Name": "cursor", "SecretString": value, "VersionStages": [stage]}),
                            ),
                            None => (
                                "400 Bad Request",
                                serde_json::json!({"__type": "ResourceNotFoundException", "message": "no such version"}),
                            ),
                        };
                        let reply = reply.to_string();
                        let response = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{reply}",
                            reply.len()
                        );
                        if socket.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (endpoint, calls)
    }

    fn client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
        let sdk_config = store::local_sdk_config().into_builder().endpoint_url(endpoint).build();
        aws_sdk_secretsmanager::Client::new(&sdk_config)
    }

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor";

    fn config_without_cursor_secret() -> Config {
        Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".to_owned()),
            "DYNAMODB_ENDPOINT" => Some("http://127.0.0.1:9".to_owned()),
            _ => None,
        })
        .unwrap()
    }

    /// Issue 19, item 7: a stream or schedule function (jobs, cleanup,
    /// notifier) starts without any cursor secret; an HTTP function does not.
    #[tokio::test]
    async fn a_stream_or_schedule_function_starts_without_a_cursor_secret() {
        let sdk_config = store::local_sdk_config();
        let app = App::from_config(config_without_cursor_secret(), &sdk_config);
        assert_eq!(app.config.table_name, "t");
        assert!(app.config.cursor_secret.is_none());
        let refused = HttpApp::from_config(config_without_cursor_secret(), &sdk_config).await;
        assert!(
            matches!(refused, Err(ConfigError::Missing(name)) if name.starts_with("CURSOR_SECRET_ARN")),
            "an HTTP function needs its cursor secret"
        );
    }

    #[tokio::test]
    async fn the_secret_is_read_once_per_stage_and_the_previous_one_opens() {
        let old = "the-old-cursor-secret-0123";
        let (endpoint, calls) = stand_in(HashMap::from([
            (CURRENT, "the-new-cursor-secret-4567"),
            (PREVIOUS, old),
        ]))
        .await;
        let keys = read_cursor_keys(&client(&endpoint), ARN).await.unwrap();
        let mut seen = calls.lock().unwrap().clone();
        seen.sort();
        assert_eq!(
            seen,
            [
                ("secretsmanager.GetSecretValue".to_owned(), CURRENT.to_owned()),
                ("secretsmanager.GetSecretValue".to_owned(), PREVIOUS.to_owned()),
            ]
        );
        let sealed_before = CursorKeys::new(old.as_bytes()).for_subject("alice").seal("q", &7);
        assert_eq!(keys.for_subject("alice").open::<u32>("q", &sealed_before).unwrap(), 7);
        let sealed_now = keys.for_subject("alice").seal("q", &8);
        let new = CursorKeys::new(b"the-new-cursor-secret-4567");
        assert_eq!(new.for_subject("alice").open::<u32>("q", &sealed_now).unwrap(), 8);
    }

    #[tokio::test]
    async fn a_secret_never_rotated_has_no_previous_key() {
        let (endpoint, calls) = stand_in(HashMap::from([(CURRENT, "the-only-cursor-secret-89")])).await;
        let keys = read_cursor_keys(&client(&endpoint), ARN).await.unwrap();
        assert_eq!(calls.lock().unwrap().len(), 2);
        let other = CursorKeys::new(b"some-other-secret-0123")
            .for_subject("alice")
            .seal("q", &1);
        assert!(keys.for_subject("alice").open::<u32>("q", &other).is_err());
        let own = CursorKeys::new(b"the-only-cursor-secret-89")
            .for_subject("alice")
            .seal("q", &2);
        assert_eq!(keys.for_subject("alice").open::<u32>("q", &own).unwrap(), 2);
    }

    #[tokio::test]
    async fn a_missing_or_short_current_secret_fails_the_init() {
        let (endpoint, _) = stand_in(HashMap::new()).await;
        let error = read_cursor_keys(&client(&endpoint), ARN).await.err().unwrap();
        assert!(
            matches!(&error, ConfigError::Invalid { name: "CURSOR_SECRET_ARN", message } if message.contains("AWSCURRENT")),
            "{error}"
        );
        let (endpoint, _) = stand_in(HashMap::from([(CURRENT, "short")])).await;
        assert!(read_cursor_keys(&client(&endpoint), ARN).await.is_err());
    }
}
