//! Type-erased managers (issue 21): `BoxManager` in a `Vec` of managers of different types, in
//! a struct field; `SendBoxManager` returned by a dyn-compatible trait (`Arc<dyn Storage>`),
//! entered in a spawned task and held by an `ExitStack`; every teardown runs once, at every
//! point of cancellation.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use contextlib::testing::{Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{
    AsyncContextManager, BoxManager, Exit, ExitStack, Lend, SendBoxManager, async_context_manager,
    async_with,
};

type Log = Arc<Mutex<Vec<String>>>;

#[async_context_manager]
async fn generated(name: &'static str, log: Log) -> Result<&mut Vec<u8>, io::Error> {
    let mut bytes = name.as_bytes().to_vec();
    yield_now().await;
    let exit = r#yield!(&mut bytes);
    yield_now().await;
    log.lock().unwrap().push(format!("{name}: {exit}"));
    Ok(())
}

struct HandWritten {
    bytes: Vec<u8>,
    log: Log,
}

impl<'a> Lend<'a> for HandWritten {
    type Target = &'a mut Vec<u8>;
}

impl AsyncContextManager for HandWritten {
    type Error = io::Error;
    async fn enter(self: Pin<&mut Self>) -> io::Result<&mut Vec<u8>> {
        Ok(&mut self.get_mut().bytes)
    }
    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> io::Result<()> {
        self.log.lock().unwrap().push(format!("hand: {exit}"));
        Ok(())
    }
}

type Buffer<'a> = BoxManager<'a, fn(&()) -> &mut Vec<u8>, io::Error>;

/// A struct holding a manager of a type chosen at run time.
struct Job<'a> {
    output: Buffer<'a>,
}

#[test]
fn boxed_managers_of_different_types_share_one_type() {
    futures_executor::block_on(async {
        let log = Log::default();
        let managers: Vec<Buffer<'_>> = vec![
            BoxManager::new(generated("gen", log.clone())),
            BoxManager::new(HandWritten {
                bytes: b"hand".to_vec(),
                log: log.clone(),
            }),
        ];
        let mut lengths = Vec::new();
        for manager in managers {
            lengths
                .push(async_with!(manager => |bytes| { bytes.push(b'!'); bytes.len() }).unwrap());
        }
        assert_eq!(lengths, [4, 5]);
        let job = Job {
            output: BoxManager::new(generated("job", log.clone())),
        };
        let failed: Result<(), io::Error> =
            async_with!(job.output => |_bytes| Err(io::Error::other("block failed")));
        assert_eq!(failed.unwrap_err().to_string(), "block failed");
        assert_eq!(
            *log.lock().unwrap(),
            ["gen: ok", "hand: ok", "job: error: block failed"]
        );
    });
}

#[test]
fn a_boxed_manager_is_torn_down_once_wherever_it_is_cancelled() {
    let probe = Probe::default();
    let log = Log::default();
    cancel_at_every_poll(
        || async {
            let manager: Buffer<'_> = BoxManager::new(generated("cut", log.clone()));
            async_with!(probe.observe(manager) => |bytes| {
                yield_now().await;
                bytes.len()
            })
        },
        |run| {
            probe.assert_torn_down_once(&run);
            if let Run::Completed { output, .. } = run {
                assert_eq!(output.unwrap(), 3);
            }
        },
    );
}

struct Session {
    queries: Vec<String>,
}

/// Dyn-compatible: a method returning a manager, through `SendBoxManager`.
trait Storage: Send + Sync {
    fn session(&self) -> SendBoxManager<'_, fn(&()) -> &mut Session, io::Error>;
}

#[async_context_manager]
async fn connect(url: &str) -> Result<&mut Session, io::Error> {
    let mut session = Session {
        queries: vec![format!("connect {url}")],
    };
    r#yield!(&mut session);
    Ok(())
}

struct Database(String);

impl Storage for Database {
    fn session(&self) -> SendBoxManager<'_, fn(&()) -> &mut Session, io::Error> {
        SendBoxManager::new(connect(&self.0))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dyn_storage_hands_out_send_boxed_managers_to_spawned_tasks() {
    let storage: Arc<dyn Storage> = Arc::new(Database("db://main".into()));
    let task = tokio::spawn(async move {
        let direct = async_with!(storage.session() => |session| {
            tokio::task::yield_now().await;
            session.queries.push("select 1".into());
            Ok::<_, io::Error>(session.queries.len())
        })?;
        let stacked = async_with!(ExitStack::<io::Error>::new() => |stack| {
            let session = stack.enter(storage.session()).await?;
            tokio::task::yield_now().await;
            Ok::<_, io::Error>(session.queries.len())
        })?;
        Ok::<_, io::Error>((direct, stacked))
    });
    assert_eq!(task.await.unwrap().unwrap(), (2, 1));
}
