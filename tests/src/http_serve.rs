//! The serve loop of the test HTTP servers (the counting proxy, the strict
//! SCIM 1.1 server, the PingID emulator): a tokio runtime of its own on the
//! calling thread, one hyper HTTP/1.1 connection task per accepted
//! connection, until `stop` fires; open keep-alive connections are dropped
//! with the runtime.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Serve `listener` until `stop` fires, answering each request with
/// `handler(request)`. `make_handler` runs inside the server's runtime (a
/// handler may hold clients that need one). `name` names the threads.
pub fn serve<M, H, F, E>(
    listener: std::net::TcpListener,
    name: &str,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    make_handler: M,
) where
    M: FnOnce() -> H,
    H: Fn(hyper::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<hyper::Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(format!("{name}-worker"))
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("the {name}'s tokio runtime: {e}"));
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let handler = make_handler();
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let handler = handler.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handler(req));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
}
