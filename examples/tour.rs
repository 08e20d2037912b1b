//! The six managers of the Python examples this crate translates, one after the other, on their
//! success, error and panic paths, with a log of what happens at enter, in the block and at exit.
//!
//! Run with `cargo run --example tour`. Needs nothing but cargo: the files and the SQLite
//! database live in a temporary directory, the HTTP server runs in-process on 127.0.0.1.
//! (`DATABASE_URL`, if set to a `sqlite:` or `postgres://` URL, replaces the temporary
//! database.)
//!
//! The last chapter cancels a block: a `tokio::time::timeout` expires inside a transaction,
//! and the rollback is run to completion by contextlib's teardown runtime (`detach_on_cancel`).
//!
//! Log format: `[enter]` / `[exit]` lines come from the managers, `[block]` lines from the
//! with-blocks, `=>` lines show what `async_with!` returned.

#[path = "managers/file.rs"]
mod file;
#[path = "managers/hand_written.rs"]
mod hand_written;
#[path = "managers/http_session.rs"]
mod http_session;
#[path = "managers/scratch.rs"]
mod scratch;
#[path = "managers/temp_dir.rs"]
mod temp_dir;
#[path = "managers/timer.rs"]
mod timer;
#[path = "managers/transaction.rs"]
mod transaction;

use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use contextlib::async_with;
use contextlib::tokio::{detach_on_cancel, wait_for_teardowns};
use futures_util::FutureExt;
use tokio::io::AsyncWriteExt;

use file::file_handler;
use hand_written::{
    AppError, SimpleAsyncContextManager, create_async_context, typed_async_context,
};
use http_session::{api_session, serve_api, wait_until_no_connections};
use scratch::{scratch_file, write_shards};
use temp_dir::temp_directory;
use timer::measure_async_time;
use transaction::{Journal, connect, count_notes, db_transaction, insert_note};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // Panics are part of the tour: log them as block events instead of the default report.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        println!("    [block] panic!({message:?})");
    }));

    temp_dir_tour().await?;
    println!("\n(a working directory for the next two tours)");
    async_with!(temp_directory("contextlib-tour") => |workdir| {
        file_tour(workdir).await?;
        transaction_tour(workdir).await?;
        Ok::<_, BoxError>(())
    })?;
    hand_written_tour().await;
    type_hint_tour().await?;
    timer_tour().await;
    http_session_tour().await?;
    composition_tour().await?;
    cancellation_tour().await?;
    batteries_tour().await?;
    println!("\ntour finished: every exit ran");
    Ok(())
}

fn heading(title: &str) {
    println!("\n== {title} ==");
}

fn scenario(name: &str) {
    println!("-- {name}");
}

/// Runs a with-block that panics; returns once the panic, resumed after the exit, is caught.
async fn expect_panic<F: Future>(with: F) {
    match AssertUnwindSafe(with).catch_unwind().await {
        Ok(_) => println!("=> no panic?"),
        Err(_) => println!("=> the panic resumed after the exit ran; caught by the tour"),
    }
}

async fn temp_dir_tour() -> io::Result<()> {
    heading("temp_directory() -> examples/temp_dir.rs");
    scenario("block succeeds");
    let dir = async_with!(temp_directory("contextlib-tour") => |dir| {
        tokio::fs::write(dir.join("scratch.txt"), b"work").await?;
        println!("    [block] wrote scratch.txt; dir exists: {}", dir.is_dir());
        Ok::<_, io::Error>(dir.to_path_buf())
    })?;
    println!("=> Ok; dir still exists: {}", dir.exists());

    scenario("block fails");
    let mut seen = PathBuf::new();
    let result = async_with!(temp_directory("contextlib-tour") => |dir| {
        seen = dir.to_path_buf();
        println!("    [block] reading a file that is not there");
        tokio::fs::read(dir.join("missing.txt")).await
    });
    println!(
        "=> Err({}); dir still exists: {}",
        result.unwrap_err(),
        seen.exists()
    );

    scenario("block panics");
    expect_panic(async {
        async_with!(temp_directory("contextlib-tour") => |dir| {
            seen = dir.to_path_buf();
            if dir.is_dir() {
                panic!("lost track of the scratch files");
            }
        })
    })
    .await;
    println!("   dir still exists: {}", seen.exists());
    Ok(())
}

async fn file_tour(workdir: &Path) -> io::Result<()> {
    heading("get_file_handler(filename) -> examples/file.rs");
    let path = workdir.join("report.txt");

    scenario("block succeeds");
    async_with!(file_handler(&path) => |file| {
        file.write_all(b"line 1\n").await?;
        let on_disk = tokio::fs::read(&path).await?.len();
        println!("    [block] wrote 7 bytes; on disk so far: {on_disk} bytes (buffered)");
        Ok::<_, io::Error>(())
    })?;
    println!(
        "=> Ok; on disk: {:?}",
        tokio::fs::read_to_string(&path).await?
    );

    scenario("block fails after writing");
    let result: io::Result<()> = async_with!(file_handler(&path) => |file| {
        file.write_all(b"half a record").await?;
        println!("    [block] wrote 13 bytes, then finds bad input");
        Err(io::Error::new(io::ErrorKind::InvalidData, "bad input"))
    });
    println!(
        "=> Err({}); on disk: {:?}",
        result.unwrap_err(),
        tokio::fs::read_to_string(&path).await?
    );

    scenario("block panics after writing");
    expect_panic(async {
        async_with!(file_handler(&path) => |file| {
            file.write_all(b"last words").await?;
            if !file.buffer().is_empty() {
                panic!("formatter crashed");
            }
            Ok::<_, io::Error>(())
        })
    })
    .await;
    println!("   on disk: {:?}", tokio::fs::read_to_string(&path).await?);
    Ok(())
}

async fn transaction_tour(workdir: &Path) -> Result<(), BoxError> {
    heading("db_transaction(conn_string) -> examples/transaction.rs");
    let pool = connect(workdir).await?;
    let journal = Arc::new(Journal::default());

    scenario("block succeeds");
    async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
        insert_note(tx, "tour: committed").await?;
        println!("    [block] inserted a note");
        Ok::<_, sqlx::Error>(())
    })?;
    println!(
        "=> Ok; committed notes: {}",
        count_notes(&pool, "tour: committed").await?
    );

    scenario("block fails after inserting");
    let result: Result<(), sqlx::Error> = async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
        insert_note(tx, "tour: rolled back").await?;
        println!("    [block] inserted a note, then runs a bad query");
        sqlx::query("UPDATE no_such_table SET x = 1").execute(&mut **tx).await?;
        Ok(())
    });
    println!(
        "=> Err({}); notes: {}",
        result.unwrap_err(),
        count_notes(&pool, "tour: rolled back").await?
    );

    scenario("block panics after inserting");
    expect_panic(async {
        async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
            insert_note(tx, "tour: rolled back").await?;
            if count_notes(&pool, "tour: rolled back").await? == 0 {
                panic!("invariant violated");
            }
            Ok::<_, sqlx::Error>(())
        })
    })
    .await;
    println!(
        "   notes: {}",
        count_notes(&pool, "tour: rolled back").await?
    );

    scenario("the decorator form: #[contextlib::with(db_transaction(..) => tx)] on a fn");
    add_note(&pool, &journal, "tour: decorated").await?;
    println!(
        "=> Ok; committed notes: {}",
        count_notes(&pool, "tour: decorated").await?
    );
    println!("   journal: {:?}", journal.steps());
    pool.close().await;
    Ok(())
}

/// A fn whose whole body runs in a transaction: a fresh `db_transaction` on every call.
#[contextlib::with(db_transaction(pool.clone(), journal.clone()) => tx)]
async fn add_note(
    pool: &sqlx::AnyPool,
    journal: &Arc<Journal>,
    body: &str,
) -> Result<(), sqlx::Error> {
    insert_note(tx, body).await?;
    println!("    [block] inserted {body:?} (the fn's body is the block)");
    Ok(())
}

/// A manager's type in signatures (the guide, "Type hints"): any manager lending `&mut Vec<u8>`,
/// chosen at run time, entered in a spawned task through the `Send` variant.
async fn type_hint_tour() -> Result<(), BoxError> {
    use contextlib::{Lend, SendAsyncContextManager};

    async fn fill<M>(manager: M) -> Result<usize, io::Error>
    where
        M: SendAsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Vec<u8>>,
    {
        async_with!(manager => |bytes| {
            tokio::task::yield_now().await;
            bytes.extend_from_slice(b"typed");
            Ok::<_, io::Error>(bytes.len())
        })
    }

    #[contextlib::async_context_manager]
    async fn buffer(prefix: &'static [u8]) -> Result<&mut Vec<u8>, io::Error> {
        let mut bytes = prefix.to_vec();
        let exit = r#yield!(&mut bytes);
        println!("  [exit]  buffer of {} bytes saw {exit}", bytes.len());
        Ok(())
    }

    heading("type hints: AsyncContextManager[T] -> the guide, Type hints");
    scenario("a generic fn over any manager lending &mut Vec<u8>, spawned");
    let filled = tokio::spawn(fill(buffer(b"bytes: "))).await??;
    println!("=> {filled}");
    scenario("a fn returning AsyncContextManager[&T]");
    let result = async_with!(typed_async_context("Hello") => |value| value.len());
    println!("=> {result:?}");
    Ok(())
}

async fn hand_written_tour() {
    heading("SimpleAsyncContextManager / create_async_context(value) -> examples/hand_written.rs");
    let mut manager = SimpleAsyncContextManager::new("Hello, World!");
    let mut seen = Vec::new();

    scenario("hand-written, block succeeds");
    let result = async_with!(&mut manager => |value| {
        println!("    [block] got {value:?}");
        value.len()
    });
    println!("=> {result:?}");
    scenario("generated, block succeeds");
    let result = async_with!(create_async_context("Hello, World!", &mut seen) => |value| {
        println!("    [block] got {value:?}");
        value.len()
    });
    println!("=> {result:?}");

    scenario("hand-written, block fails");
    let result: Result<(), AppError> =
        async_with!(&mut manager => |_value| Err(AppError { code: 409 }));
    println!("=> {result:?}");
    scenario("generated, block fails");
    let result: Result<(), AppError> = async_with!(create_async_context("Hello, World!", &mut seen) => |_value| Err(AppError { code: 409 }));
    println!("=> {result:?}");

    scenario("hand-written, block panics");
    expect_panic(async {
        async_with!(&mut manager => |value| {
            if !value.is_empty() {
                panic!("cannot greet");
            }
        })
    })
    .await;
    scenario("generated, block panics");
    expect_panic(async {
        async_with!(create_async_context("Hello, World!", &mut seen) => |value| {
            if !value.is_empty() {
                panic!("cannot greet");
            }
        })
    })
    .await;
    println!("   both saw the same exits: {}", manager.seen == seen);
}

async fn timer_tour() {
    heading("measure_async_time() -> examples/timer.rs");
    let mut elapsed = None;

    scenario("block succeeds");
    let result = async_with!(measure_async_time("nap", &mut elapsed) => |_start| {
        println!("    [block] sleeping 30ms");
        tokio::time::sleep(Duration::from_millis(30)).await;
    });
    println!("=> {result:?}; reported {elapsed:?}");

    scenario("block fails");
    let result: Result<(), String> = async_with!(measure_async_time("doomed nap", &mut elapsed) => |_start| {
        println!("    [block] sleeping 10ms, then giving up");
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err("gave up".to_string())
    });
    println!("=> {result:?}; reported {elapsed:?}");
}

async fn http_session_tour() -> Result<(), BoxError> {
    heading("api_session(base_url) -> examples/http_session.rs");
    async_with!(serve_api() => |server| {
        scenario("block succeeds");
        let greeting = async_with!(api_session(&server.base_url) => |session| {
            let greeting = session.get("/hello").await?;
            println!("    [block] GET {}/hello -> {greeting:?}", session.base_url());
            println!(
                "    [block] server sees {} open connection(s)",
                server.stats.open_connections.load(Ordering::SeqCst)
            );
            Ok::<_, BoxError>(greeting)
        })?;
        let open = wait_until_no_connections(&server.stats, Duration::from_secs(5)).await;
        println!("=> Ok({greeting:?}); server sees {open} open connection(s)");

        scenario("block fails");
        let result: Result<String, BoxError> = async_with!(api_session(&server.base_url) => |session| {
            println!("    [block] GET /missing");
            Ok(session.get("/missing").await?)
        });
        let open = wait_until_no_connections(&server.stats, Duration::from_secs(5)).await;
        println!("=> Err({}); server sees {open} open connection(s)", result.unwrap_err());

        scenario("block panics");
        expect_panic(async {
            async_with!(api_session(&server.base_url) => |session| {
                let hits = session.get("/hits").await?;
                println!("    [block] GET /hits -> {hits}");
                if !hits.is_empty() {
                    panic!("did not expect {hits} hits");
                }
                Ok::<_, BoxError>(())
            })
        })
        .await;
        let open = wait_until_no_connections(&server.stats, Duration::from_secs(5)).await;
        println!("   server sees {open} open connection(s)");
        Ok::<_, BoxError>(())
    })
}

async fn composition_tour() -> Result<(), BoxError> {
    heading("managers built from managers -> examples/managers/scratch.rs");

    scenario("scratch_file: a file inside its own temporary directory, block succeeds");
    let mut contents = String::new();
    async_with!(scratch_file("notes.txt", &mut contents) => |file| {
        file.write_all(b"written inside a composed manager\n").await?;
        println!("    [block] wrote a line");
        Ok::<_, io::Error>(())
    })?;
    println!("=> Ok; the file held {contents:?}, and its directory is gone");

    scenario("scratch_file, block fails: both inner managers see the block's error");
    let mut contents = String::new();
    let result: io::Result<()> = async_with!(scratch_file("notes.txt", &mut contents) => |file| {
        file.write_all(b"half").await?;
        Err(io::Error::other("bad record"))
    });
    println!(
        "=> Err({}); the file still held {contents:?}",
        result.unwrap_err()
    );

    scenario("closing(value, close): a BufWriter closed (flushed) at every exit");
    let path = std::env::temp_dir().join(format!("contextlib-tour-closing-{}", std::process::id()));
    let writer = tokio::io::BufWriter::new(tokio::fs::File::create(&path).await?);
    let result: io::Result<()> = async_with!(contextlib::closing(writer, |mut w| async move {
        w.shutdown().await?;
        println!("  [exit]  closing: flushed and shut the writer down");
        Ok::<_, io::Error>(())
    }) => |writer| {
        writer.write_all(b"buffered, then the block fails").await?;
        println!("    [block] wrote 30 buffered bytes, then fails");
        Err(io::Error::other("bad record"))
    });
    println!(
        "=> Err({}); on disk all the same: {:?}",
        result.unwrap_err(),
        tokio::fs::read_to_string(&path).await?
    );
    tokio::fs::remove_file(&path).await?;

    scenario("concurrent((..)): two temporary directories created together");
    async_with!(contextlib::concurrent((temp_directory("contextlib-tour-a"), temp_directory("contextlib-tour-b"))) => |(a, b)| {
        println!("    [block] both exist: {} and {}", a.exists(), b.exists());
        Ok::<_, io::Error>(())
    })?;

    scenario("an ExitStack over a number of files known only at run time");
    // How many: `TOUR_SHARDS` if set, else 3 — the stack does not care.
    let count = std::env::var("TOUR_SHARDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let shards: Vec<String> = (1..=count).map(|n| format!("shard-{n}.txt")).collect();
    let names: Vec<&str> = shards.iter().map(String::as_str).collect();
    async_with!(temp_directory("contextlib-tour") => |dir| {
        let bytes = write_shards(dir, &names).await?;
        println!("=> every file flushed by the stack's exit: {bytes} bytes on disk");
        Ok::<_, io::Error>(())
    })?;
    Ok(())
}

async fn cancellation_tour() -> Result<(), BoxError> {
    heading("cancellation: a transaction block cut by tokio::time::timeout");
    async_with!(temp_directory("contextlib-tour") => |workdir| {
        let pool = connect(workdir).await?;
        let journal = Arc::new(Journal::default());

        scenario("the timeout (50ms) expires while the block waits, after it inserted a note");
        // `detach_on_cancel`: if the block is cancelled, the rollback (which awaits the database) is
        // run to the end by contextlib's teardown runtime instead of being dropped unfinished.
        let manager = detach_on_cancel(db_transaction(pool.clone(), journal.clone()));
        let result = tokio::time::timeout(Duration::from_millis(50), async {
            async_with!(manager => |tx| {
                insert_note(tx, "tour: cut short").await?;
                println!("    [block] inserted a note; now waiting on a slow service");
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .await;
        // The teardown runs on contextlib's own thread; wait for it (a blocking call: off the runtime).
        let finished =
            tokio::task::spawn_blocking(|| wait_for_teardowns(Duration::from_secs(5))).await?;
        match result {
            Err(elapsed) => println!("=> timeout: {elapsed}; detached teardowns finished: {finished}"),
            Ok(outcome) => println!("=> not cut short? {outcome:?}"),
        }
        println!(
            "   notes: {}",
            count_notes(&pool, "tour: cut short").await?
        );
        println!("   journal: {:?}", journal.steps());
        pool.close().await;
        Ok::<_, BoxError>(())
    })
}

/// The ready-made managers of `contextlib::tokio`: one line each where the examples above
/// wrote a manager (README, "Batteries").
async fn batteries_tour() -> Result<(), BoxError> {
    use contextlib::tokio::{child, create_file, task_group, temp_dir};

    heading("batteries: temp_dir, create_file, task_group, child -> README, Batteries");
    scenario("a temporary directory, a file flushed and synced even though the block fails");
    let mut kept = PathBuf::new();
    let result: io::Result<()> = async_with!(temp_dir("contextlib-tour-battery-") => |dir| {
        kept = dir.join("log.txt");
        async_with!(create_file(&kept) => |file| {
            file.write_all(b"written before the error\n").await?;
            Err(io::Error::other("the block fails"))
        })
        .or_else(|error| {
            println!("    [block] {error}; the file holds {:?}", std::fs::read_to_string(&kept).ok());
            Ok(())
        })
    });
    println!("=> {result:?}; directory removed: {}", !kept.exists());

    scenario("a task group whose first failure aborts the other tasks");
    let result: Result<(), String> = async_with!(task_group::<String>() => |group| {
        group.spawn(async { tokio::time::sleep(Duration::from_secs(3600)).await; Ok(()) });
        group.spawn(async { Err("task 2 failed".to_string()) });
        Ok(())
    });
    println!("=> {result:?} (at once: the hour-long task was aborted)");

    scenario("a child process killed when the block gives up on it");
    let mut sleeper = tokio::process::Command::new("sleep");
    sleeper.arg("30");
    let result: io::Result<()> = async_with!(child(sleeper) => |process| {
        println!("    [block] `sleep 30` runs as pid {:?}", process.id());
        Err(io::Error::other("no time to wait"))
    });
    println!("=> {result:?} (killed and reaped by the exit)");
    Ok(())
}
