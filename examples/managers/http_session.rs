//! `api_session(base_url)` from the Python seed (an aiohttp `ClientSession`), plus the real
//! HTTP server it talks to, which is itself a context manager.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::routing::get;
use contextlib::{Exit, async_context_manager};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// An HTTP client bound to a base URL: `get("/items")` requests `{base_url}/items`.
pub struct ApiSession {
    base_url: String,
    client: reqwest::Client,
}

impl ApiSession {
    /// The URL every path is relative to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET {base_url}{path}`, returning the body of a successful response.
    pub async fn get(&self, path: &str) -> Result<String, reqwest::Error> {
        let url = format!("{}{path}", self.base_url);
        self.client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    }
}

/// Opens a client session bound to `base_url`, lends it to the block, and closes it at exit.
///
/// - **Yields** `&ApiSession`, borrowed from the manager: the block can make requests but
///   cannot keep the session (or its pooled keep-alive connections) past the exit.
/// - **Teardown** closes the session on every exit: the client and its connection pool are
///   dropped, which closes the idle keep-alive connections to the server.
/// - **Error decision**: nothing to undo for a failed block, so its error is just logged and
///   returned unchanged.
/// - **Cancellation**: closing is dropping, which never waits, so a cancelled block (a
///   `timeout` cutting a slow request, a lost `select!`) still gets its session closed in
///   place, at once; a request in flight is abandoned with it. No wrapper needed.
// The attribute's expansion trips clippy's `type_complexity` here (not the code as written).
#[allow(clippy::type_complexity)]
#[async_context_manager]
pub async fn api_session(base_url: &str) -> Result<&ApiSession, reqwest::Error> {
    let client = reqwest::Client::builder().build()?;
    let session = ApiSession {
        base_url: base_url.trim_end_matches('/').to_string(),
        client,
    };
    println!("  [enter] session opened for {}", session.base_url);
    let exit = r#yield!(&session);
    if let Exit::Err(error) = exit {
        println!("  [exit]  block failed: {error}");
    }
    drop(session);
    println!("  [exit]  session closed (client and its pooled connections dropped)");
    Ok(())
}

/// What the in-process server observed.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Requests served.
    pub hits: AtomicUsize,
    /// TCP connections currently open (accepted and not yet closed).
    pub open_connections: AtomicUsize,
}

/// A running server: where it listens and what it has seen.
pub struct ApiServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Hit and connection counters.
    pub stats: Arc<ServerStats>,
}

/// Starts an axum server on `127.0.0.1` (port chosen by the OS) with `GET /hello` and
/// `GET /hits`, lends the block its address and counters, and shuts it down at exit
/// (gracefully: open connections are allowed to finish).
///
/// **Cancellation**: the shutdown awaits the server task, which a teardown run in `Drop`
/// cannot wait for: the server is told to stop, but its end is not awaited (and the teardown
/// is reported as unfinished). `detach_on_cancel(serve_api())` (it owns everything it needs)
/// has contextlib's teardown runtime await the shutdown to the end.
#[async_context_manager]
pub async fn serve_api() -> io::Result<&ApiServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(ServerStats::default());
    let hello_stats = stats.clone();
    let hits_stats = stats.clone();
    let app = Router::new()
        .route(
            "/hello",
            get(move || async move {
                hello_stats.hits.fetch_add(1, Ordering::SeqCst);
                "hello from contextlib"
            }),
        )
        .route(
            "/hits",
            get(move || async move {
                let n = hits_stats.hits.fetch_add(1, Ordering::SeqCst) + 1;
                n.to_string()
            }),
        );
    let counting = CountingListener {
        inner: listener,
        stats: stats.clone(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(counting, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    let server = ApiServer {
        base_url: format!("http://{addr}"),
        stats,
    };
    println!("  [enter] server listening on {}", server.base_url);
    let _exit = r#yield!(&server);
    let _ = stop.send(());
    task.await.map_err(io::Error::other)??;
    println!(
        "  [exit]  server stopped after {} hits",
        server.stats.hits.load(Ordering::SeqCst)
    );
    Ok(())
}

/// A `TcpListener` that counts open connections in [`ServerStats::open_connections`].
struct CountingListener {
    inner: TcpListener,
    stats: Arc<ServerStats>,
}

impl axum::serve::Listener for CountingListener {
    type Io = CountedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CountedStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    self.stats.open_connections.fetch_add(1, Ordering::SeqCst);
                    let stats = self.stats.clone();
                    return (CountedStream { stream, stats }, addr);
                }
                // e.g. too many open files: back off and retry, as axum's own listener does.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An accepted connection; closing (dropping) it decrements the open-connection count.
struct CountedStream {
    stream: TcpStream,
    stats: Arc<ServerStats>,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.stats.open_connections.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Waits (up to `limit`) until the server has no open connection; returns how many remain.
pub async fn wait_until_no_connections(stats: &ServerStats, limit: std::time::Duration) -> usize {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let open = stats.open_connections.load(Ordering::SeqCst);
        if open == 0 || tokio::time::Instant::now() >= deadline {
            return open;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
