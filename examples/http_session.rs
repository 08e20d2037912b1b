//! `api_session(base_url)`: an HTTP client session bound to a base URL, closed at exit. The
//! server it talks to is real too (axum on 127.0.0.1, OS-assigned port), started by another
//! manager.
//!
//! Run with `cargo run --example http_session`.

#[path = "managers/http_session.rs"]
mod http_session;

use std::sync::atomic::Ordering;
use std::time::Duration;

use contextlib::async_with;
use http_session::{api_session, serve_api, wait_until_no_connections};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    async_with!(serve_api() => |server| {
        async_with!(api_session(&server.base_url) => |session| {
            let greeting = session.get("/hello").await?;
            println!("    [block] base URL {}", session.base_url());
            println!("    [block] GET /hello -> {greeting:?}");
            let hits = session.get("/hits").await?;
            println!("    [block] GET /hits -> {hits}");
            println!(
                "    [block] server sees {} open connection(s)",
                server.stats.open_connections.load(Ordering::SeqCst)
            );
            Ok::<_, BoxError>(())
        })?;
        let open = wait_until_no_connections(&server.stats, Duration::from_secs(5)).await;
        println!("after the session: server sees {open} open connection(s)");
        Ok::<_, BoxError>(())
    })
}
