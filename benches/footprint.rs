//! Heap allocations per enter+exit (counted by a global allocator) and the size of each
//! manager, and of the whole future of one `async_with!` (`cargo bench --bench footprint`).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::hint::black_box;
use std::mem::{size_of, size_of_val};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use common::*;
use contextlib::async_with;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to `System`, counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ITERS: u64 = 1000;

/// (allocations, bytes) per call of `runner`, after a warm-up call.
fn allocations(runner: fn(&mut Counters) -> u32) -> (f64, f64) {
    let mut counters = Counters::default();
    black_box(runner(&mut counters));
    let (count, bytes) = (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed));
    for _ in 0..ITERS {
        black_box(runner(&mut counters));
    }
    let count = ALLOCATIONS.load(Relaxed) - count;
    let bytes = BYTES.load(Relaxed) - bytes;
    (count as f64 / ITERS as f64, bytes as f64 / ITERS as f64)
}

fn future_size<F: Future>(future: F) -> usize {
    size_of_val(&future)
}

fn main() {
    silence_panics();
    let word = size_of::<usize>();
    let mut c = Counters::default();
    let (a, b) = (&mut c.a, &mut c.b);

    // Sizes of the managers themselves (what `async_with!` pins on the stack), and of the whole
    // future running one `async_with!` with that manager (manager + enter/exit futures + block).
    // One statement each: the managers borrow the counters until the end of the statement.
    let mut sizes: Vec<(&str, usize, usize)> = Vec::new();
    let manager = size_of_val(&hand(a, 1));
    let future = future_size(async { async_with!(hand(a, 1) => |v| v + 1) });
    sizes.push(("a", manager, future));
    let manager = size_of_val(&hand_ref(a, 1));
    let future = future_size(async { async_with!(hand_ref(a, 1) => |v| *v + 1) });
    sizes.push(("a-ref", manager, future));
    let manager = size_of_val(&generated(a, 1));
    let future = future_size(async { async_with!(generated(a, 1) => |v| v + 1) });
    sizes.push(("b", manager, future));
    let manager = size_of_val(&generated_ref(a, 1));
    let future = future_size(async { async_with!(generated_ref(a, 1) => |v| *v + 1) });
    sizes.push(("c", manager, future));
    let future = future_size(with_value(a, 1, async |v: &mut u32| *v + 1));
    sizes.push(("d", future, future));
    let manager = size_of_val(&naive(a, 1));
    let future = future_size(async { async_with!(naive(a, 1) => |v| v + 1) });
    sizes.push(("e", manager, future));
    let manager = size_of_val(&(generated(a, 1), generated(b, 1)));
    let future =
        future_size(async { async_with!((generated(a, 1), generated(b, 1)) => |(x, y)| x + y) });
    sizes.push(("f", manager, future));
    let manager = size_of_val(&(hand(a, 1), hand(b, 1)));
    let future = future_size(async { async_with!((hand(a, 1), hand(b, 1)) => |(x, y)| x + y) });
    sizes.push(("f-hand", manager, future));

    type Runner = fn(&mut Counters) -> u32;
    let runners: [(&str, Runner); 12] = [
        ("a", a_hand),
        ("a-ref", a_hand_ref),
        ("b", b_generated),
        ("c", c_generated_ref),
        ("d", d_closure),
        ("e", e_naive),
        ("f", f_tuple_generated),
        ("f-hand", f_tuple_hand),
        ("a-err", a_hand_err),
        ("b-err", b_generated_err),
        ("a-panic", a_hand_panic),
        ("b-panic", b_generated_panic),
    ];

    println!("Heap allocations per enter+exit ({ITERS} iterations after a warm-up)");
    println!();
    println!("| variant | allocations | bytes |");
    println!("|---|---:|---:|");
    for (key, runner) in runners {
        let (count, bytes) = allocations(runner);
        println!("| ({key}) | {count} | {bytes} |");
    }
    println!();
    println!("Sizes in bytes (word = {word}); (d) has no manager: its size is the helper's future");
    println!();
    println!("| variant | manager | over (a) | whole `async_with!` future | over (a) |");
    println!("|---|---:|---:|---:|---:|");
    let (base_manager, base_future) = (sizes[0].1, sizes[0].2);
    let words = |bytes: usize, base: usize| {
        let diff = bytes as isize - base as isize;
        format!("{diff:+} B ({:+.1} words)", diff as f64 / word as f64)
    };
    for (key, manager, future) in sizes {
        println!(
            "| ({key}) | {manager} | {} | {future} | {} |",
            words(manager, base_manager),
            words(future, base_future)
        );
    }
}
