//! A local Lambda Runtime API (the routes a runtime client calls: `/next`,
//! `/response`, `/error`, `/init/error`), one per measured process, so a
//! function binary runs exactly as it does on Lambda and can be timed from
//! outside: when it first asks for work (init done), and how long each
//! invocation takes from hand-out to answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot, Notify};

const PREFIX: &str = "/2018-06-01/runtime";

/// How one invocation ended.
#[derive(Debug)]
pub struct Outcome {
    pub ok: bool,
    /// From the event handed out by `/next` to the answer received.
    pub duration: Duration,
    pub body: Bytes,
}

type Waiting = (Bytes, oneshot::Sender<Outcome>);

struct State {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Waiting>>,
    in_flight: Mutex<HashMap<String, (Instant, oneshot::Sender<Outcome>)>>,
    first_next: Mutex<Option<Instant>>,
    asked: Notify,
    ids: AtomicU64,
}

/// The emulator: where it listens, and how to hand it work.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    state: Arc<State>,
    sender: mpsc::UnboundedSender<Waiting>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            events: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            first_next: Mutex::new(None),
            asked: Notify::new(),
            ids: AtomicU64::new(0),
        });
        let serving = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, state, sender })
    }

    /// When the runtime first asked for work (its init was over), waiting up to `limit`.
    pub async fn first_next(&self, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let notified = self.state.asked.notified();
            if let Some(at) = *self.state.first_next.lock().unwrap() {
                return Some(at);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            if tokio::time::timeout(left, notified).await.is_err() {
                return *self.state.first_next.lock().unwrap();
            }
        }
    }

    /// Hands `event` to the runtime and waits for its answer.
    pub async fn invoke(&self, event: Bytes, limit: Duration) -> Option<Outcome> {
        let (tx, rx) = oneshot::channel();
        self.sender.send((event, tx)).ok()?;
        tokio::time::timeout(limit, rx).await.ok()?.ok()
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn answer(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "unknown route"));
    };
    if parts.method == Method::GET && rest == "/invocation/next" {
        {
            let mut first = state.first_next.lock().unwrap();
            first.get_or_insert_with(Instant::now);
        }
        state.asked.notify_waiters();
        let next = state.events.lock().await.recv().await;
        let Some((event, done)) = next else {
            return Ok(reply(StatusCode::GONE, "no more work"));
        };
        let id = format!("bench-{}", state.ids.fetch_add(1, Ordering::Relaxed));
        state
            .in_flight
            .lock()
            .unwrap()
            .insert(id.clone(), (Instant::now(), done));
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
            + 30_000;
        let response = Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
            .body(Full::new(event))
            .expect("valid headers");
        return Ok(response);
    }
    if parts.method == Method::POST {
        if rest == "/init/error" {
            eprintln!("init error: {}", String::from_utf8_lossy(&body));
            return Ok(reply(StatusCode::ACCEPTED, ""));
        }
        let mut segments = rest.trim_start_matches("/invocation/").splitn(2, '/');
        if let (Some(id), Some(kind @ ("response" | "error"))) = (segments.next(), segments.next()) {
            if let Some((started, done)) = state.in_flight.lock().unwrap().remove(id) {
                let _ = done.send(Outcome {
                    ok: kind == "response",
                    duration: started.elapsed(),
                    body,
                });
            }
            return Ok(reply(StatusCode::ACCEPTED, ""));
        }
    }
    Ok(reply(StatusCode::NOT_FOUND, "unknown route"))
}

/// A function started under its own Runtime API, once it has asked for
/// work (its init is over).
pub struct Started {
    pub api: RuntimeApi,
    child: std::process::Child,
    /// Spawn → first `/next`.
    pub init: Duration,
}

impl Started {
    /// Starts `command` with Lambda's environment plus `env`, and waits (up
    /// to 20 s) for its first `/next`.
    pub async fn start(command: &[String], env: &[(String, String)]) -> Self {
        let api = RuntimeApi::start().await.expect("the Runtime API listens");
        let started = Instant::now();
        let child = crate::process::spawn(command, &api.addr.to_string(), env).expect("the function starts");
        let ready = api
            .first_next(Duration::from_secs(20))
            .await
            .expect("the function asks for work");
        Self {
            api,
            child,
            init: ready.duration_since(started),
        }
    }

    /// Stops it; what the kernel counted for it.
    pub fn stop(self) -> crate::process::Usage {
        crate::process::kill_and_reap(self.child)
    }
}
