//! The HTTP/1.1 server in front of the [`Gateway`]. Bodies above API
//! Gateway's 10 MB payload limit are refused as it refuses them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::Gateway;

/// API Gateway's payload limit.
pub const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

/// Accepts connections until the task is dropped.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(gateway.clone(), req, peer));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection closed");
            }
        });
    }
}

async fn answer(
    gateway: Arc<Gateway>,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    if let Some(page) = crate::docs::answer(method.as_str(), &path) {
        return Ok(page.map(Full::new));
    }
    let response = match Limited::new(body, MAX_PAYLOAD).collect().await {
        Ok(collected) => {
            gateway
                .handle(
                    http::Request::from_parts(parts, collected.to_bytes()),
                    peer.ip().to_string(),
                )
                .await
        }
        Err(_) => {
            let mut r = http::Response::new(Bytes::from_static(br#"{"message":"Request Entity Too Large"}"#));
            *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
            r
        }
    };
    tracing::info!(%method, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    Ok(response.map(Full::new))
}
