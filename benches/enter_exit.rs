//! Time per enter+exit of each variant, side by side, with divan (`cargo bench --bench
//! enter_exit`). The ratio table is printed by `cargo bench --bench report`.
//!
//! (a) hand-written manager (the baseline), (b) `#[async_context_manager]` yielding an owned
//! value, (c) yielding `&mut` to a local, (d) a closure-style helper, (e) a naive boxed-future
//! generator, (f) a tuple of two managers; plus erroring and panicking blocks for (a) and (b).

mod common;

use common::Counters;

fn main() {
    common::silence_panics();
    divan::main();
}

macro_rules! variant {
    ($name:ident, $runner:path) => {
        #[divan::bench(sample_count = 1000, sample_size = 1000)]
        fn $name(bencher: divan::Bencher) {
            let mut counters = Counters::default();
            bencher.bench_local(|| $runner(&mut counters));
        }
    };
    ($name:ident, $runner:path, slow) => {
        #[divan::bench(sample_count = 200, sample_size = 20)]
        fn $name(bencher: divan::Bencher) {
            let mut counters = Counters::default();
            bencher.bench_local(|| $runner(&mut counters));
        }
    };
}

variant!(a_hand, common::a_hand);
variant!(a_hand_ref, common::a_hand_ref);
variant!(b_generated, common::b_generated);
variant!(c_generated_ref, common::c_generated_ref);
variant!(d_closure, common::d_closure);
variant!(e_naive_boxed, common::e_naive);
variant!(f_tuple_generated, common::f_tuple_generated);
variant!(f_tuple_hand, common::f_tuple_hand);
variant!(err_a_hand, common::a_hand_err);
variant!(err_b_generated, common::b_generated_err);
variant!(panic_a_hand, common::a_hand_panic, slow);
variant!(panic_b_generated, common::b_generated_panic, slow);
