//! A local server (DynamoDB Local, the local event bus) as a background
//! process under a small shell watcher that also stops it when the process
//! that started it goes away, however that happens (Ctrl-C, a test binary
//! that exits without running destructors, a kill).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// A server process, stopped when this is dropped.
pub struct Watched {
    watcher: Child,
    what: &'static str,
}

impl Watched {
    /// Runs `command` (a shell command line) in the background and waits up
    /// to `timeout` until it listens on `port`.
    pub fn start(what: &'static str, command: &str, port: u16, timeout: Duration) -> Result<Self, String> {
        let script = format!(
            "{command} >/dev/null 2>&1 & child=$!\n\
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
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let mut watched = Self { watcher, what };
        let started = Instant::now();
        while started.elapsed() < timeout {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(watched);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        watched.stop();
        Err(format!("{what} did not listen on port {port} within {timeout:?}"))
    }

    /// The watcher's process id (stopping it stops the server).
    pub fn pid(&self) -> u32 {
        self.watcher.id()
    }

    /// Stops the server and waits for it to exit (once: later calls do nothing).
    pub fn stop(&mut self) {
        if self.watcher.try_wait().is_ok_and(|status| status.is_some()) {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.watcher.id().to_string())
            .status();
        let _ = self.watcher.wait();
        tracing::debug!(what = self.what, "stopped");
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.stop();
    }
}
