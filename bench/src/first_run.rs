//! `--first-run`: what a new user waits for. The committed tree is cloned
//! into a temporary folder (no `target/`, no `.local/`: every build and
//! install happens again) and `make dev` started there, on free ports,
//! until `GET /v1/openapi.json` answers 200; with `--first-run-test`, then
//! `make test` in the same clone, timed.
//!
//! Not a fresh machine in two ways, said next to the figures: cargo's
//! download cache (`~/.cargo/registry`) and the apt packages (Java, npm,
//! Chromium) are this machine's; on a fresh one, downloading the crates adds
//! the network's time.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long a first run may take before the measurement gives up.
const DEV_LIMIT: Duration = Duration::from_secs(20 * 60);

/// The times of a first run.
pub struct FirstRun {
    /// Clone → the first 200 of `make dev`.
    pub dev: Duration,
    /// `make test` in the same clone, after `make dev` (if asked).
    pub test: Option<(Duration, bool)>,
}

impl FirstRun {
    pub fn json(&self) -> Value {
        json!({
            "cloneToFirst200Seconds": self.dev.as_secs_f64(),
            "makeTestSeconds": self.test.map(|(t, _)| t.as_secs_f64()),
            "makeTestPassed": self.test.map(|(_, ok)| ok),
        })
    }

    pub fn print(&self) {
        println!(
            "\nFirst run (a clone without target/ or .local/; cargo's download cache and apt's packages are this machine's):\n\n| step | time | goal |\n|---|---|---|"
        );
        println!(
            "| clone → first 200 of `make dev` | {:.0} s | ≤ 180 s |",
            self.dev.as_secs_f64()
        );
        if let Some((took, passed)) = self.test {
            println!(
                "| `make test` ({}) | {:.1} min | ≤ 10 min |",
                if passed { "passed" } else { "FAILED" },
                took.as_secs_f64() / 60.0
            );
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The status of `GET path` on loopback `port`, if anything answers.
fn status_of(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 16];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// Stops `make dev` and everything it started (its process group).
fn stop(child: &mut Child) {
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.wait();
}

fn clone_into(root: &Path, dir: &Path) -> PathBuf {
    let clone = dir.join("tenancy");
    let status = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(root)
        .arg(&clone)
        .status()
        .expect("git runs");
    assert!(status.success(), "git clone failed");
    clone
}

/// Clones the committed tree and times `make dev` to its first 200 (and
/// `make test` after it, when `with_test`). Output of both goes to files in
/// the clone's parent folder, named in the progress lines.
pub fn run(root: &Path, with_test: bool) -> FirstRun {
    let dir = std::env::temp_dir().join(format!("tenancy-first-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let started = Instant::now();
    let clone = clone_into(root, &dir);
    let port = free_port();
    let log = dir.join("make-dev.log");
    eprintln!(
        "first run: make dev in {} (output: {})…",
        clone.display(),
        log.display()
    );
    let mut dev = {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::create(&log).expect("a log file");
        Command::new("make")
            .arg("dev")
            .current_dir(&clone)
            .env("TENANCY_PORT", port.to_string())
            .env("DYNAMODB_PORT", free_port().to_string())
            .env("EVENTBRIDGE_PORT", free_port().to_string())
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("a log file"))
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("make runs")
    };
    let dev_time = loop {
        if status_of(port, shared::openapi::ROUTE.trim_start_matches("GET ")) == Some(200) {
            break started.elapsed();
        }
        if let Ok(Some(status)) = dev.try_wait() {
            panic!("make dev ended ({status}) before answering; see {}", log.display());
        }
        assert!(
            started.elapsed() < DEV_LIMIT,
            "make dev did not answer within {DEV_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!("first run: the first 200 after {:.0} s", dev_time.as_secs_f64());
    stop(&mut dev);
    let test = with_test.then(|| {
        let log = dir.join("make-test.log");
        eprintln!("first run: make test (output: {})…", log.display());
        let out = std::fs::File::create(&log).expect("a log file");
        let started = Instant::now();
        let status = Command::new("make")
            .arg("test")
            .current_dir(&clone)
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("a log file"))
            .stderr(out)
            .status()
            .expect("make runs");
        (started.elapsed(), status.success())
    });
    if test.is_none_or(|(_, passed)| passed) {
        let _ = std::fs::remove_dir_all(&dir);
    }
    FirstRun { dev: dev_time, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line_is_read_from_a_loopback_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 64];
            let _ = stream.read(&mut request);
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        });
        assert_eq!(status_of(port, "/v1/openapi.json"), Some(200));
        server.join().unwrap();
        assert_eq!(status_of(free_port(), "/"), None, "nothing listens");
    }
}
