//! The instruction-count benchmark's workload: runs one variant `iters` times, so that
//! `benches/instructions.sh` can count its instructions under callgrind (deterministic, unlike
//! wall-clock time). Usage: `instructions <variant> <iters>`.

mod common;

use std::hint::black_box;

use common::Counters;

type Variant = (&'static str, fn(&mut Counters) -> u32);

/// The variants counted, by the key the tables of the guide's Performance chapter use.
const VARIANTS: &[Variant] = &[
    ("a", common::a_hand),
    ("b", common::b_generated),
    ("c", common::c_generated_ref),
    ("d", common::d_closure),
    ("f", common::f_tuple_generated),
    ("f-hand", common::f_tuple_hand),
    ("a-err", common::a_hand_err),
    ("b-err", common::b_generated_err),
    ("g", common::g_composed),
    ("g-nested", common::g_nested),
];

#[inline(never)]
fn run(runner: fn(&mut Counters) -> u32, iters: u64) -> u64 {
    let mut counters = Counters::default();
    let mut total = 0u64;
    for _ in 0..iters {
        total += u64::from(black_box(runner(black_box(&mut counters))));
    }
    total
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--list") {
        for (key, _) in VARIANTS {
            println!("{key}");
        }
        return;
    }
    let (Some(key), Some(iters)) = (first, args.next()) else {
        let keys: Vec<_> = VARIANTS.iter().map(|(key, _)| *key).collect();
        eprintln!(
            "usage: instructions <variant> <iters>; variants: {}",
            keys.join(" ")
        );
        std::process::exit(2);
    };
    let iters: u64 = iters.parse().expect("iters is a number");
    let Some(&(_, runner)) = VARIANTS.iter().find(|(k, _)| *k == key) else {
        eprintln!("instructions: no variant {key:?}");
        std::process::exit(2);
    };
    black_box(run(runner, iters));
}
