//! Local HTTP/1.1 servers on 127.0.0.1: the Runtime API host, the HTTP API, the setup page.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub struct Listener {
    listener: TcpListener,
    /// `http://127.0.0.1:<port>`: the origin a browser sees.
    pub origin: String,
}

impl Listener {
    /// Listens on `port` of 127.0.0.1 (0: a free one).
    pub async fn bind(port: u16) -> std::io::Result<Listener> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let origin = format!("http://{}", listener.local_addr()?);
        Ok(Listener { listener, origin })
    }

    pub fn address(&self) -> String {
        self.origin.trim_start_matches("http://").to_owned()
    }
}

/// Answers every connection's requests with `handler` until the task is dropped or aborted.
pub fn serve<H, F>(listener: Listener, handler: H) -> tokio::task::JoinHandle<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.listener.accept().await else { return };
            let handler = handler.clone();
            tokio::spawn(async move {
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(handler)).await;
            });
        }
    })
}
