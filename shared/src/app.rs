//! What an HTTP function builds once at init and shares across invocations.

use crate::config::{Config, ConfigError};
use crate::http::cursor::CursorKey;
use crate::store::{self, Store};

pub struct App {
    pub config: Config,
    pub store: Store,
    pub cursors: CursorKey,
}

impl App {
    pub fn new(config: Config, connection: store::Connection) -> Self {
        let store = Store::new(connection, config.table_name.clone(), config.list_shards);
        let cursors = CursorKey::new(&config.cursor_secret);
        Self { config, store, cursors }
    }

    /// Reads the configuration and builds the DynamoDB client: the whole of
    /// a function's init.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let sdk_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_env_with(&sdk_config)
    }

    /// [`App::from_env`] over an SDK configuration already loaded (a
    /// function that builds other clients from it loads it once).
    pub fn from_env_with(sdk_config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let connection = store::client(sdk_config, config.dynamodb_endpoint.as_deref());
        Ok(Self::new(config, connection))
    }
}
