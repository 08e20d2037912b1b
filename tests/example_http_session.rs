//! examples/managers/http_session.rs with a real axum server on 127.0.0.1 and a real reqwest
//! client: requests go through the base URL, and the session's connections are closed at exit.

#[path = "../examples/managers/http_session.rs"]
mod http_session;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::time::Duration;

use contextlib::async_with;
use futures_util::FutureExt;
use http_session::{api_session, serve_api, wait_until_no_connections};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const GRACE: Duration = Duration::from_secs(5);

#[tokio::test]
async fn requests_reach_the_server_and_the_session_closes_its_connections() {
    let base_url = async_with!(serve_api() => |server| {
        let stats = &server.stats;
        // A trailing slash is normalised away.
        let url = format!("{}/", server.base_url);
        let body = async_with!(api_session(&url) => |session| {
            assert_eq!(session.base_url(), server.base_url);
            let hello = session.get("/hello").await?;
            let first = session.get("/hits").await?;
            let second = session.get("/hits").await?;
            // Keep-alive: the session holds a connection open to the server.
            assert!(stats.open_connections.load(Ordering::SeqCst) >= 1);
            Ok::<_, BoxError>(format!("{hello} {first} {second}"))
        })?;
        assert_eq!(body, "hello from contextlib 2 3");
        assert_eq!(stats.hits.load(Ordering::SeqCst), 3);
        // The session's exit closed it: the server sees its connection go away.
        assert_eq!(wait_until_no_connections(stats, GRACE).await, 0);
        Ok::<_, BoxError>(server.base_url.clone())
    })
    .unwrap();
    // The server's exit stopped it: nothing listens on that port any more.
    let after = reqwest::Client::new()
        .get(format!("{base_url}/hello"))
        .send()
        .await;
    assert!(after.unwrap_err().is_connect());
}

#[tokio::test]
async fn a_failing_block_returns_its_error_and_still_closes_the_session() {
    async_with!(serve_api() => |server| {
        let result: Result<String, BoxError> = async_with!(api_session(&server.base_url) => |session| {
            session.get("/hello").await?;
            Ok(session.get("/missing").await?)
        });
        let error = result.unwrap_err();
        let error = error.downcast_ref::<reqwest::Error>().expect("a reqwest error");
        assert_eq!(error.status(), Some(reqwest::StatusCode::NOT_FOUND));
        assert_eq!(server.stats.hits.load(Ordering::SeqCst), 1);
        assert_eq!(wait_until_no_connections(&server.stats, GRACE).await, 0);
        Ok::<_, BoxError>(())
    })
    .unwrap();
}

#[tokio::test]
async fn a_panicking_block_still_closes_the_session() {
    async_with!(serve_api() => |server| {
        let caught = AssertUnwindSafe(async {
            async_with!(api_session(&server.base_url) => |session| {
                let body = session.get("/hello").await?;
                assert!(server.stats.open_connections.load(Ordering::SeqCst) >= 1);
                if body.starts_with("hello") {
                    panic!("unexpected greeting");
                }
                Ok::<_, BoxError>(())
            })
        })
        .catch_unwind()
        .await;
        assert_eq!(caught.unwrap_err().downcast_ref::<&str>(), Some(&"unexpected greeting"));
        assert_eq!(server.stats.hits.load(Ordering::SeqCst), 1);
        assert_eq!(wait_until_no_connections(&server.stats, GRACE).await, 0);
        Ok::<_, BoxError>(())
    })
    .unwrap();
}
