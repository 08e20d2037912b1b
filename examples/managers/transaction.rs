//! `db_transaction(conn_string)` from the Python seed: commit when the block succeeds, roll
//! back otherwise. Runs through sqlx's `Any` driver: against a SQLite file by default, or
//! against PostgreSQL when given a `postgres://` URL (the same code and SQL for both).

use std::path::Path;
use std::sync::{Arc, Mutex};

use contextlib::{Exit, async_context_manager, async_with};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions};

/// What the transaction manager did, in order: `"begin"`, `"commit"`, `"rollback (...)"`.
#[derive(Debug, Default)]
pub struct Journal(Mutex<Vec<String>>);

impl Journal {
    /// Records and prints one step.
    pub fn record(&self, step: String) {
        let event = if step == "begin" {
            "[enter]"
        } else {
            "[exit] "
        };
        println!("  {event} {step}");
        self.0.lock().unwrap().push(step);
    }

    /// The steps recorded so far.
    pub fn steps(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Acquires a connection from `pool` and lends it to the block; gives it back at exit.
///
/// - **Yields** `&mut PoolConnection<Any>`.
/// - **Exit**: `Exit::Ok` returns the connection to the pool. Any other outcome closes it
///   instead: a block that failed, panicked or was cut short may have left it mid-transaction,
///   and a pool that hands out a connection *idle in transaction* fails every later user (the
///   outage of sqlx issues #4385 and #3875).
#[allow(clippy::type_complexity)]
#[async_context_manager]
pub async fn db_connection(pool: AnyPool) -> Result<&mut PoolConnection<Any>, sqlx::Error> {
    let mut connection = pool.acquire().await?;
    if !r#yield!(&mut connection).is_ok() {
        connection.close_on_drop();
    }
    Ok(())
}

/// Begins a transaction on a connection from `pool` and lends the block that connection;
/// composed from [`db_connection`], as Python's `async with pool.connection() as conn:` inside
/// an `@asynccontextmanager`.
///
/// Takes the pool and the journal by value so that the manager owns everything it needs
/// (`Send + 'static`): pass `pool.clone()` (an `AnyPool` is a cheap, shared handle) and
/// `journal.clone()` (an `Arc`). The pool may be SQLite or PostgreSQL (see [`connect_url`]).
///
/// - **Yields** `&mut PoolConnection<Any>`, inside `BEGIN`: the block runs its queries on it
///   (`.execute(&mut **tx)`) but cannot keep it.
/// - **Error decision**: `Exit::Ok` commits; `Exit::Err`, `Exit::Panic` and `Exit::Cancelled`
///   roll back, so a failed block leaves no partial writes. The block's error is returned as
///   it was; if the commit or rollback itself fails, that error is returned instead. The
///   connection manager around it sees the same outcome (and closes the connection unless the
///   block succeeded), or the commit's or rollback's failure.
/// - **Cancellation**: the rollback awaits the database, which a teardown run in `Drop`
///   cannot wait for; cut short, the connection is closed rather than returned mid-transaction,
///   and the teardown is reported to the hook as unfinished. Wrap the manager to have the
///   rollback awaited to the end (and journaled as `rollback (cancelled)`) by contextlib's
///   teardown runtime: `detach_on_cancel(db_transaction(pool.clone(), journal.clone()))`.
/// - Every step is recorded in `journal`.
// The attribute's expansion trips clippy's `type_complexity` here (not the code as written).
#[allow(clippy::type_complexity)]
#[async_context_manager]
pub async fn db_transaction(
    pool: AnyPool,
    journal: Arc<Journal>,
) -> Result<&mut PoolConnection<Any>, sqlx::Error> {
    async_with!(db_connection(pool) => |connection| {
        sqlx::query("BEGIN").execute(&mut **connection).await?;
        journal.record("begin".to_string());
        match r#yield!(&mut *connection) {
            Exit::Ok => {
                sqlx::query("COMMIT").execute(&mut **connection).await?;
                journal.record("commit".to_string());
            }
            other => {
                sqlx::query("ROLLBACK").execute(&mut **connection).await?;
                let why = match other {
                    Exit::Err(error) => format!("error: {error}"),
                    Exit::Panic(panic) => format!("panic: {panic}"),
                    _ => "cancelled".to_string(),
                };
                journal.record(format!("rollback ({why})"));
            }
        }
        Ok::<_, sqlx::Error>(())
    })
}

/// Connects to the database the examples use: `$DATABASE_URL` if it is set (a `sqlite:` or a
/// `postgres://` URL, see [`connect_url`]), otherwise a SQLite file `demo.db` in `dir`
/// (created if missing). Creates the `notes` table if it does not exist.
pub async fn connect(dir: &Path) -> Result<AnyPool, sqlx::Error> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => connect_url(&url).await,
        _ => connect_file(&dir.join("demo.db")).await,
    }
}

/// Connects to the database at `url`, through sqlx's `Any` driver: a SQLite URL
/// (`sqlite:demo.db?mode=rwc`) or a PostgreSQL one (`postgres://user:password@host/database`,
/// without TLS). Creates the `notes` table if it does not exist.
pub async fn connect_url(url: &str) -> Result<AnyPool, sqlx::Error> {
    // Registers the compiled-in drivers (SQLite, PostgreSQL) with `Any`; idempotent.
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await?;
    create_table(&pool).await?;
    Ok(pool)
}

/// Connects to (creating if missing) the SQLite database file at `path`, ignoring
/// `$DATABASE_URL`, and creates the `notes` table if it does not exist.
pub async fn connect_file(path: &Path) -> Result<AnyPool, sqlx::Error> {
    let url = sqlite_file_url(path);
    connect_url(&url).await
}

/// The URL of the SQLite database file at `path`, created if missing (`mode=rwc`).
pub fn sqlite_file_url(path: &Path) -> String {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .to_url_lossy()
        .to_string()
}

// Portable SQL: the same statements run on SQLite and PostgreSQL. No `id` column (an
// auto-increment key is spelled differently in each); `$1` placeholders, which SQLite
// accepts too.
async fn create_table(pool: &AnyPool) -> Result<(), sqlx::Error> {
    sqlx::query("CREATE TABLE IF NOT EXISTS notes (body TEXT NOT NULL)")
        .execute(pool)
        .await?;
    Ok(())
}

/// Inserts one note; the helper the blocks use.
pub async fn insert_note(tx: &mut PoolConnection<Any>, body: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO notes (body) VALUES ($1)")
        .bind(body)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many notes with this body are committed (seen from outside any transaction).
pub async fn count_notes(pool: &AnyPool, body: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notes WHERE body = $1")
        .bind(body)
        .fetch_one(pool)
        .await
}
