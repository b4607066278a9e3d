//! A timing proxy in front of DynamoDB Local: the functions under test talk
//! to it (`DYNAMODB_ENDPOINT`), and it adds up the time during which some of
//! their requests were out: from a whole request received to its whole
//! answer back.
//! An invocation's duration minus that time is the function's own overhead,
//! measured rather than guessed from a floor.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

/// Requests in flight, and since when at least one has been: the time in
/// DynamoDB is the time some request was waiting, so requests sent side by
/// side count once.
#[derive(Default)]
struct Busy {
    in_flight: usize,
    since: Option<Instant>,
}

#[derive(Default)]
struct Spent {
    busy: std::sync::Mutex<Busy>,
    nanos: AtomicU64,
    requests: AtomicU64,
    /// Thousandths of a capacity unit, as the answers report them.
    milli_units: AtomicU64,
}

impl Spent {
    fn begin(&self) {
        let mut busy = self.busy.lock().unwrap();
        busy.in_flight += 1;
        busy.since.get_or_insert_with(Instant::now);
    }

    fn end(&self) {
        let mut busy = self.busy.lock().unwrap();
        busy.in_flight -= 1;
        if busy.in_flight == 0 {
            if let Some(since) = busy.since.take() {
                self.nanos
                    .fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
            }
        }
    }
}

/// What the requests since the last [`DynamoDbProxy::take`] cost.
pub struct Taken {
    pub time: Duration,
    pub requests: u64,
    /// Capacity units the answers reported (the store asks for them).
    pub capacity: f64,
}

/// The capacity units an answer reports: `ConsumedCapacity` is an object on
/// single-item operations and queries, a list on batches and transactions.
fn capacity_units(body: &[u8]) -> f64 {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0.0;
    };
    let units = |c: &serde_json::Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    match &answer["ConsumedCapacity"] {
        serde_json::Value::Array(all) => all.iter().map(units).sum(),
        one => units(one),
    }
}

pub struct DynamoDbProxy {
    /// What to give the functions as `DYNAMODB_ENDPOINT`.
    pub endpoint: String,
    spent: Arc<Spent>,
}

impl DynamoDbProxy {
    /// Listens on a free loopback port, forwarding to `upstream`
    /// (`http://host:port`). Each client connection gets its own upstream
    /// connection, so no request waits for another's.
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let spent = Arc::new(Spent::default());
        let counting = spent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let spent = counting.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let Ok((sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(server)).await
                    else {
                        return;
                    };
                    tokio::spawn(connection);
                    let sender = Arc::new(Mutex::new(sender));
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (sender, spent) = (sender.clone(), spent.clone());
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await?.to_bytes();
                            spent.begin();
                            let forwarded = Request::from_parts(parts, Full::new(body));
                            let answer = sender.lock().await.send_request(forwarded).await;
                            let response = match answer {
                                Ok(response) => {
                                    let (parts, body) = response.into_parts();
                                    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                                    let units = (capacity_units(&body) * 1000.0).round() as u64;
                                    spent.milli_units.fetch_add(units, Ordering::Relaxed);
                                    Response::from_parts(parts, Full::new(body))
                                }
                                Err(_) => {
                                    let mut response = Response::new(Full::new(Bytes::new()));
                                    *response.status_mut() = StatusCode::BAD_GATEWAY;
                                    response
                                }
                            };
                            spent.end();
                            spent.requests.fetch_add(1, Ordering::Relaxed);
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(client), service)
                        .await;
                });
            }
        });
        Ok(Self { endpoint, spent })
    }

    /// The time spent in DynamoDB, the requests sent and the capacity they
    /// consumed since the last call.
    pub fn take(&self) -> Taken {
        // Timed after the answer is read, so the capacity is counted first.
        let time = Duration::from_nanos(self.spent.nanos.swap(0, Ordering::Relaxed));
        Taken {
            time,
            requests: self.spent.requests.swap(0, Ordering::Relaxed),
            capacity: self.spent.milli_units.swap(0, Ordering::Relaxed) as f64 / 1000.0,
        }
    }
}
