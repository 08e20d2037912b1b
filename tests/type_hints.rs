//! Python's `AsyncContextManager[T]` as Rust bounds (issue 21): the three programs a newcomer
//! could not write before `Lend`, and the contract's spellings, for generated, hand-written,
//! tuple, composed, `nullcontext`, `closing`, `concurrent` and `Either` managers, borrowing
//! their arguments or not.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;

use contextlib::{
    AsyncContextManager, BoxManager, Either, Exit, IntoValue, Lend, SendAsyncContextManager,
    SendBoxManager, Target, async_context_manager, async_with, closing, concurrent, nullcontext,
};

#[async_context_manager]
async fn buffer(log: &mut Vec<String>) -> Result<&mut Vec<u8>, io::Error> {
    let mut bytes = Vec::new();
    let exit = r#yield!(&mut bytes);
    log.push(format!("{} bytes, {exit}", bytes.len()));
    Ok(())
}

#[async_context_manager]
async fn owned_buffer() -> Result<&mut Vec<u8>, io::Error> {
    let mut bytes = Vec::new();
    r#yield!(&mut bytes);
    Ok(())
}

/// 1. A fn generic over "any manager lending `&mut Vec<u8>`".
async fn write_hello<M>(manager: M) -> io::Result<usize>
where
    M: AsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Vec<u8>>,
{
    async_with!(manager => |bytes| {
        bytes.extend_from_slice(b"hello");
        Ok::<_, io::Error>(bytes.len())
    })
}

#[test]
fn a_generic_fn_accepts_managers_that_borrow_their_arguments() {
    futures_executor::block_on(async {
        let mut log = Vec::new();
        assert_eq!(write_hello(buffer(&mut log)).await.unwrap(), 5);
        assert_eq!(write_hello(owned_buffer()).await.unwrap(), 5);
        assert_eq!(log, ["5 bytes, ok"]);
    });
}

/// Owned targets too, in argument position (`impl Trait`).
async fn count(
    manager: impl AsyncContextManager<Error = Infallible> + for<'a> Lend<'a, Target = u32>,
) -> u32 {
    async_with!(manager => |n| n + 1).into_value()
}

#[test]
fn impl_trait_in_argument_position_accepts_every_kind_of_manager() {
    futures_executor::block_on(async {
        assert_eq!(count(nullcontext(1)).await, 2);
        #[async_context_manager]
        async fn borrowed(n: &u32) -> u32 {
            r#yield!(*n);
        }
        let n = 41;
        assert_eq!(count(borrowed(&n)).await, 42);
    });
}

struct Session {
    queries: Vec<String>,
}

/// 2. A trait method returning a manager that borrows `&self` (dependency injection).
trait Storage {
    fn session(
        &self,
    ) -> impl AsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Session>;
}

struct Database {
    url: String,
}

#[async_context_manager]
async fn real_session(url: &str) -> Result<&mut Session, io::Error> {
    let mut session = Session {
        queries: vec![format!("connect {url}")],
    };
    r#yield!(&mut session);
    Ok(())
}

impl Storage for Database {
    fn session(
        &self,
    ) -> impl AsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Session>
    {
        real_session(&self.url)
    }
}

/// A fake for tests, hand-written.
struct FakeStorage;

/// A hand-written manager lending `&mut T` with `io::Error`; `Send` when `T` is.
struct Fake<T>(T);

impl<'a, T> Lend<'a> for Fake<T> {
    type Target = &'a mut T;
}

impl<T: Unpin> AsyncContextManager for Fake<T> {
    type Error = io::Error;
    async fn enter(self: Pin<&mut Self>) -> io::Result<&mut T> {
        Ok(&mut self.get_mut().0)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> io::Result<()> {
        Ok(())
    }
}

impl<T: Unpin + Send + 'static> SendAsyncContextManager for Fake<T> {
    type EnterFuture<'m> = Pin<Box<dyn Future<Output = io::Result<&'m mut T>> + Send + 'm>>;
    type ExitFuture<'x> = contextlib::BoxExit<'x, io::Error>;
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        Box::pin(self.enter())
    }
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        Box::pin(self.exit(exit))
    }
}

impl Storage for FakeStorage {
    fn session(
        &self,
    ) -> impl AsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Session>
    {
        Fake(Session {
            queries: vec!["fake".into()],
        })
    }
}

async fn run_query(storage: &impl Storage, query: &str) -> io::Result<Vec<String>> {
    async_with!(storage.session() => |session| {
        session.queries.push(query.to_string());
        Ok::<_, io::Error>(session.queries.clone())
    })
}

#[test]
fn a_trait_method_returns_a_manager_borrowing_self() {
    futures_executor::block_on(async {
        let db = Database {
            url: "db://x".into(),
        };
        assert_eq!(
            run_query(&db, "select").await.unwrap(),
            ["connect db://x", "select"]
        );
        assert_eq!(
            run_query(&FakeStorage, "select").await.unwrap(),
            ["fake", "select"]
        );
    });
}

/// `contextlib::Target<'a, M>` names a manager's target.
fn first_byte<'a, M>(target: &Target<'a, M>) -> Option<u8>
where
    M: Lend<'a, Target = &'a mut Vec<u8>> + 'a,
{
    target.first().copied()
}

async fn first_of<M>(manager: M) -> Result<Option<u8>, io::Error>
where
    M: AsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Vec<u8>>,
{
    async_with!(manager => |bytes| {
        bytes.push(9);
        let named: Target<'_, M> = bytes;
        first_byte::<M>(&named)
    })
}

#[test]
fn target_names_a_managers_target() {
    futures_executor::block_on(async {
        assert_eq!(first_of(owned_buffer()).await.unwrap(), Some(9));
    });
}

/// Tuples, `concurrent`, `closing`: the same bound, their own targets.
async fn pair<M>(manager: M) -> u32
where
    M: AsyncContextManager<Error = Infallible> + for<'a> Lend<'a, Target = (u32, u32)>,
{
    async_with!(manager => |(a, b)| a + b).into_value()
}

async fn closed<M>(manager: M) -> Result<usize, io::Error>
where
    M: AsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Vec<u8>>,
{
    async_with!(manager => |bytes| { bytes.push(1); bytes.len() })
}

#[test]
fn composed_managers_have_the_type_hint_too() {
    futures_executor::block_on(async {
        assert_eq!(pair((nullcontext(1), nullcontext(2))).await, 3);
        assert_eq!(pair(concurrent((nullcontext(1), nullcontext(2)))).await, 3);
        let manager = closing(vec![0u8], |bytes: Vec<u8>| async move {
            assert_eq!(bytes.len(), 2);
            Ok::<_, io::Error>(())
        });
        assert_eq!(closed(manager).await.unwrap(), 2);
    });
}

/// The `Send` variant: generic code over `SendAsyncContextManager` can be spawned.
async fn spawned_write<M>(manager: M) -> io::Result<usize>
where
    M: SendAsyncContextManager<Error = io::Error>
        + for<'a> Lend<'a, Target = &'a mut Vec<u8>>
        + 'static,
{
    tokio::spawn(async move {
        async_with!(manager => |bytes| {
            tokio::task::yield_now().await;
            bytes.extend_from_slice(b"sent");
            Ok::<_, io::Error>(bytes.len())
        })
    })
    .await
    .unwrap()
}

trait SendStorage {
    fn session(
        &self,
    ) -> impl SendAsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Session>;
}

impl SendStorage for Database {
    fn session(
        &self,
    ) -> impl SendAsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Session>
    {
        real_session(&self.url)
    }
}

/// A query in a spawned task, through the `Send` variant of a trait method borrowing `&self`:
/// how many queries the session holds after it.
async fn spawned_query<S: SendStorage + Send + Sync + 'static>(storage: Arc<S>) -> usize {
    let task = tokio::spawn(async move {
        async_with!(SendStorage::session(&*storage) => |session| {
            tokio::task::yield_now().await;
            session.queries.push("spawned".into());
            Ok::<_, io::Error>(session.queries.len())
        })
    });
    task.await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_send_variant_spawns() {
    assert_eq!(spawned_write(owned_buffer()).await.unwrap(), 4);
    let db = Arc::new(Database {
        url: "db://y".into(),
    });
    assert_eq!(spawned_query(db).await, 2);
}

/// The short form: `AsyncContextManager![T, E]` in argument and return position, the target's
/// elided lifetimes being the manager borrow.
fn short_form_buffer() -> contextlib::AsyncContextManager![&mut Vec<u8>, io::Error] {
    owned_buffer()
}

async fn short_form_write(
    manager: contextlib::AsyncContextManager![&mut Vec<u8>, io::Error],
) -> io::Result<usize> {
    write_hello(manager).await
}

async fn short_form_any_error(manager: contextlib::AsyncContextManager![u32]) -> bool {
    async_with!(manager => |n| n == 1).is_ok()
}

#[test]
fn the_short_form_is_the_long_bound() {
    futures_executor::block_on(async {
        assert_eq!(short_form_write(short_form_buffer()).await.unwrap(), 5);
        let mut log = Vec::new();
        assert_eq!(short_form_write(buffer(&mut log)).await.unwrap(), 5);
        assert!(short_form_any_error(nullcontext(1)).await);
    });
}

// --- `Either` where a manager lending `T` is expected (issue 21): one of two managers chosen at
// run time, both lending the same target with the same error ---

/// Return position, borrowing an argument on one side.
fn counter<'n>(
    n: &'n u32,
    borrow: bool,
) -> impl AsyncContextManager<Error = Infallible> + for<'a> Lend<'a, Target = u32> + 'n {
    #[async_context_manager]
    async fn borrowed(n: &u32) -> u32 {
        r#yield!(*n);
    }
    if borrow {
        Either::Left(borrowed(n))
    } else {
        Either::Right(nullcontext(*n * 10))
    }
}

#[test]
fn either_goes_where_a_type_hint_asks_for_a_manager() {
    futures_executor::block_on(async {
        let mut log = Vec::new();
        for left in [true, false] {
            let m = if left {
                Either::Left(buffer(&mut log))
            } else {
                Either::Right(owned_buffer())
            };
            assert_eq!(write_hello(m).await.unwrap(), 5);
        }
        assert_eq!(log, ["5 bytes, ok"]);
        let n = 4;
        assert_eq!(count(counter(&n, true)).await, 5);
        assert_eq!(count(counter(&n, false)).await, 41);
        assert_eq!(
            count(Either::<_, contextlib::NullContext<u32>>::Left(
                nullcontext(1)
            ))
            .await,
            2
        );
    });
}

#[async_context_manager]
async fn cache_session() -> Result<&mut Session, io::Error> {
    let mut session = Session {
        queries: vec!["cache".into()],
    };
    r#yield!(&mut session);
    Ok(())
}

/// A storage whose sessions come from a cache or from a connection, chosen at run time: its
/// trait methods borrow `&self` and return an `Either`.
struct Tiered {
    url: String,
    cached: bool,
}

impl SendStorage for Tiered {
    fn session(
        &self,
    ) -> impl SendAsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Session>
    {
        if self.cached {
            Either::Left(cache_session())
        } else {
            Either::Right(real_session(&self.url))
        }
    }
}

/// The same `Either`, as the non-`Send` trait's method.
impl Storage for Tiered {
    fn session(
        &self,
    ) -> impl AsyncContextManager<Error = io::Error> + for<'a> Lend<'a, Target = &'a mut Session>
    {
        SendStorage::session(self)
    }
}

#[test]
fn a_trait_method_borrowing_self_returns_an_either() {
    futures_executor::block_on(async {
        for cached in [true, false] {
            let db = Tiered {
                url: "db://x".into(),
                cached,
            };
            let first = if cached { "cache" } else { "connect db://x" };
            assert_eq!(run_query(&db, "select").await.unwrap(), [first, "select"]);
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_fn_over_the_send_variant_spawns_an_either() {
    for left in [true, false] {
        let m = if left {
            Either::Left(owned_buffer())
        } else {
            Either::Right(Fake(vec![1]))
        };
        assert_eq!(spawned_write(m).await.unwrap(), if left { 4 } else { 5 });
    }
    // Named by its concrete type, in a spawned task.
    let task = tokio::spawn(async {
        let m = if std::hint::black_box(true) {
            Either::Left(owned_buffer())
        } else {
            Either::Right(owned_buffer())
        };
        async_with!(m => |bytes| {
            tokio::task::yield_now().await;
            bytes.push(1);
            Ok::<_, io::Error>(bytes.len())
        })
    });
    assert_eq!(task.await.unwrap().unwrap(), 1);
    // Returned by a trait method borrowing `&self`, spawned.
    for cached in [true, false] {
        let db = Arc::new(Tiered {
            url: "db://y".into(),
            cached,
        });
        assert_eq!(spawned_query(db).await, 2);
    }
}

#[test]
fn either_futures_are_send_when_both_sides_are() {
    fn send<T: Send>(_: &T) {}
    let mut manager = pin!(Either::<_, Fake<Vec<u8>>>::Left(owned_buffer()));
    send(&manager);
    let enter = manager.as_mut().enter_send();
    send(&enter);
    drop(enter);
    let exit = manager.as_mut().exit_send(Exit::Ok);
    send(&exit);
}

/// The short form of the type hint, and the boxed managers, take an `Either` too.
fn short_form(cached: bool) -> contextlib::AsyncContextManager![&mut Vec<u8>, io::Error] {
    if cached {
        Either::Left(owned_buffer())
    } else {
        Either::Right(Fake(vec![7]))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_short_form_and_boxed_managers_take_an_either() {
    assert_eq!(write_hello(short_form(true)).await.unwrap(), 5);
    assert_eq!(write_hello(short_form(false)).await.unwrap(), 6);
    let mut log = Vec::new();
    type Boxed<'a> = BoxManager<'a, fn(&()) -> &mut Vec<u8>, io::Error>;
    let boxed: Vec<Boxed<'_>> = vec![
        BoxManager::new(Either::<_, Fake<Vec<u8>>>::Left(buffer(&mut log))),
        BoxManager::new(Either::<Fake<Vec<u8>>, _>::Right(owned_buffer())),
    ];
    for manager in boxed {
        assert_eq!(write_hello(manager).await.unwrap(), 5);
    }
    let sent: SendBoxManager<'_, fn(&()) -> &mut Vec<u8>, io::Error> =
        SendBoxManager::new(Either::<_, Fake<Vec<u8>>>::Left(owned_buffer()));
    assert_eq!(spawned_write(sent).await.unwrap(), 4);
}
