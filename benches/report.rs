//! The ratio table: ns per enter+exit of every variant and its ratio to the hand-written
//! baseline (a), measured side by side in one process (`cargo bench --bench report`).
//!
//! Each variant runs in batches of a fixed wall time; the table shows the median batch (and
//! the fastest, for a noise check). Variants are measured round-robin, so a burst of load on
//! the machine hits them all alike.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::Counters;

/// One batch: `iters` calls of the runner, ns per call.
#[inline(never)]
fn batch(run: &mut dyn FnMut(u64) -> f64, iters: u64) -> f64 {
    run(iters)
}

fn timer<F: FnMut(&mut Counters) -> u32>(mut runner: F) -> impl FnMut(u64) -> f64 {
    let mut counters = Counters::default();
    move |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(runner(&mut counters));
        }
        start.elapsed().as_nanos() as f64 / iters as f64
    }
}

struct Row {
    key: &'static str,
    what: &'static str,
    run: Box<dyn FnMut(u64) -> f64>,
    iters: u64,
    samples: Vec<f64>,
}

fn row<F: FnMut(&mut Counters) -> u32 + 'static>(
    key: &'static str,
    what: &'static str,
    runner: F,
) -> Row {
    Row {
        key,
        what,
        run: Box::new(timer(runner)),
        iters: 0,
        samples: Vec::new(),
    }
}

fn main() {
    common::silence_panics();
    let rounds: usize = std::env::var("CONTEXTLIB_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let batch_time = Duration::from_millis(10);

    let mut rows = vec![
        row("a", "hand-written manager (baseline)", common::a_hand),
        row(
            "a-ref",
            "hand-written, lends &mut to a field",
            common::a_hand_ref,
        ),
        row(
            "b",
            "#[async_context_manager], owned target",
            common::b_generated,
        ),
        row(
            "c",
            "#[async_context_manager], &mut to a local",
            common::c_generated_ref,
        ),
        row("d", "closure-style helper (AsyncFnOnce)", common::d_closure),
        row("e", "naive boxed-future generator", common::e_naive),
        row(
            "f",
            "tuple of two generated managers",
            common::f_tuple_generated,
        ),
        row(
            "f-hand",
            "tuple of two hand-written managers",
            common::f_tuple_hand,
        ),
        row("a-err", "(a), block returns Err", common::a_hand_err),
        row("b-err", "(b), block returns Err", common::b_generated_err),
        row(
            "a-panic",
            "(a), block panics (caught outside)",
            common::a_hand_panic,
        ),
        row(
            "b-panic",
            "(b), block panics (caught outside)",
            common::b_generated_panic,
        ),
        row(
            "g-nested",
            "two generated managers nested at the call site",
            common::g_nested,
        ),
        row(
            "g",
            "the same two composed into one manager (yield inside async_with!)",
            common::g_composed,
        ),
        row(
            "s1-static",
            "1 generated manager, static",
            common::s1_static,
        ),
        row("s1", "ExitStack holding 1 manager", common::s1_stack),
        row(
            "s10-static",
            "10 generated managers nested statically",
            common::s10_static,
        ),
        row("s10", "ExitStack holding 10 managers", common::s10_stack),
        row(
            "s1000",
            "ExitStack holding 1,000 managers",
            common::s1000_stack,
        ),
        row(
            "w-hand",
            "async_with! written at the call site",
            common::w_hand,
        ),
        row(
            "w",
            "the same through #[contextlib::with]",
            common::w_decorated,
        ),
        row(
            "c2-tuple",
            "tuple of two generated managers (sequential)",
            common::c2_tuple,
        ),
        row(
            "c2",
            "the same two through concurrent(..)",
            common::c2_concurrent,
        ),
    ];

    // Calibrate: iterations per batch so that one batch takes about `batch_time`.
    for row in &mut rows {
        let mut iters = 16;
        loop {
            let start = Instant::now();
            batch(&mut *row.run, iters);
            if start.elapsed() >= batch_time / 4 || iters >= 1 << 30 {
                let per = start.elapsed().as_nanos().max(1) as u64;
                row.iters = (iters * batch_time.as_nanos() as u64 / per).max(16);
                break;
            }
            iters *= 4;
        }
    }
    for _ in 0..rounds {
        for row in &mut rows {
            let ns = batch(&mut *row.run, row.iters);
            row.samples.push(ns);
        }
    }

    let stats: Vec<(f64, f64)> = rows
        .iter_mut()
        .map(|row| {
            row.samples.sort_by(f64::total_cmp);
            (row.samples[row.samples.len() / 2], row.samples[0])
        })
        .collect();
    let baseline = |key: &str| stats[rows.iter().position(|r| r.key == key).unwrap()].0;
    let (base, base_err, base_panic, base_tuple) = (
        baseline("a"),
        baseline("a-err"),
        baseline("a-panic"),
        baseline("f-hand"),
    );

    println!(
        "ns per enter+exit (median of {rounds} batches of ~{batch_time:?}; min in parentheses)"
    );
    println!();
    println!(
        "| variant | what | ns (median) | ns (min) | ratio to (a) | ratio to its hand-written twin |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for (row, &(median, min)) in rows.iter().zip(&stats) {
        let twin = match row.key {
            "b" | "d" | "e" => Some(base),
            "c" => Some(baseline("a-ref")),
            "f" => Some(base_tuple),
            "b-err" => Some(base_err),
            "b-panic" => Some(base_panic),
            "g" => Some(baseline("g-nested")),
            "s1" => Some(baseline("s1-static")),
            "s10" => Some(baseline("s10-static")),
            "s1000" => Some(100.0 * baseline("s10-static")),
            "w" => Some(baseline("w-hand")),
            "c2" => Some(baseline("c2-tuple")),
            _ => None,
        };
        let twin = twin.map_or("".to_string(), |t| format!("{:.2}x", median / t));
        println!(
            "| ({}) | {} | {:.2} | {:.2} | {:.2}x | {} |",
            row.key,
            row.what,
            median,
            min,
            median / base,
            twin
        );
    }
}
