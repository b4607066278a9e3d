//! A function binary as a child process: started with Lambda's environment,
//! and reaped with the kernel's account of it (CPU time, peak RSS).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What the kernel counted for a finished child.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu: Duration,
    pub max_rss_kib: u64,
}

/// Starts `command` (a program and its arguments) as Lambda would: the
/// Runtime API at `runtime_api`, plus `env`.
pub fn spawn(command: &[String], runtime_api: &str, env: &[(String, String)]) -> std::io::Result<Child> {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn()
}

/// The peak resident set of the running process, from `/proc/<pid>/status`
/// (`VmHWM`). Not `wait4`'s `ru_maxrss`: Linux folds the memory of the
/// process that forked into it (the bench itself, some 20 MB) when the child
/// `exec`s, so every binary would read alike.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Kills the child and reaps it, returning what it used over its life.
pub fn kill_and_reap(child: Child) -> Usage {
    let max_rss_kib = peak_rss_kib(child.id());
    let pid = child.id() as libc::pid_t;
    // SAFETY: plain syscalls on our own child's pid; `rusage` is written by the kernel.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::wait4(pid, &mut status, 0, &mut usage);
        let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
        Usage {
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
            max_rss_kib,
        }
    }
}
