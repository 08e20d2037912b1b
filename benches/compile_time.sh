#!/usr/bin/env bash
# Compile-time cost of the attribute: builds a crate of N managers written with
# `#[async_context_manager]` and a crate of the same N managers written by hand (each manager
# also used once through `async_with!`, so both crates are fully type-checked, monomorphized
# and code-generated), and prints the ratio.
#
# Both crates live in a temporary workspace outside the repo and depend on this repo's `contextlib`
# by path. Dependencies (contextlib, contextlib-core, contextlib-macros, syn, ...) are built first and kept; each
# timed run is `cargo clean -p <crate>` then `cargo build -p <crate>`, same profile, same
# flags, incremental off, so only the generated crate's own compile is timed. Runs alternate
# between the two crates; the table shows the median (and min) of REPS runs each.
#
# Usage: benches/compile_time.sh            (N=300, REPS=3, PROFILE=dev)
#        N=300 REPS=5 PROFILE=release benches/compile_time.sh
#        KEEP=1 benches/compile_time.sh   (keeps the generated workspace, for inspection)
# Needs only cargo and python3 (for the arithmetic). Run it on an idle machine: another
# build running at the same time skews both crates, though not necessarily equally.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
N="${N:-300}"
REPS="${REPS:-3}"
PROFILE="${PROFILE:-dev}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/contextlib-compile-time.XXXXXX")"
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; fi

mkdir -p "$WORK/generated/src" "$WORK/hand/src"
cat >"$WORK/Cargo.toml" <<TOML
[workspace]
members = ["generated", "hand"]
resolver = "3"
TOML
for crate in generated hand; do
  cat >"$WORK/$crate/Cargo.toml" <<TOML
[package]
name = "contextlib-compile-time-$crate"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
contextlib = { path = "$REPO" }
TOML
done
# Same dependency versions as the repo.
cp "$REPO/Cargo.lock" "$WORK/Cargo.lock" 2>/dev/null || true

prelude='use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
#[allow(unused_imports)]
use contextlib::{async_with, AsyncContextManager, Exit};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
'

{
  echo "$prelude"
  for ((i = 0; i < N; i++)); do
    cat <<RS
#[contextlib::async_context_manager]
pub async fn m$i(counter: &mut u64, value: u32) -> u32 {
    *counter += $i;
    let exit = r#yield!(value + $i);
    *counter += if exit.is_ok() { 1 } else { 2 };
}
RS
  done
} >"$WORK/generated/src/lib.rs"

{
  echo "$prelude"
  for ((i = 0; i < N; i++)); do
    cat <<RS
pub struct M$i<'c> {
    counter: &'c mut u64,
    value: u32,
}
pub fn m$i(counter: &mut u64, value: u32) -> M$i<'_> {
    M$i { counter, value }
}
impl<'a> contextlib::Lend<'a> for M$i<'_> {
    type Target = u32;
}
impl AsyncContextManager for M$i<'_> {
    type Error = core::convert::Infallible;
    async fn enter(self: core::pin::Pin<&mut Self>) -> Result<u32, Self::Error> {
        let this = self.get_mut();
        *this.counter += $i;
        Ok(this.value + $i)
    }
    async fn exit(self: core::pin::Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Self::Error> {
        *self.get_mut().counter += if exit.is_ok() { 1 } else { 2 };
        Ok(())
    }
}
RS
  done
} >"$WORK/hand/src/lib.rs"

# The same uses in both crates.
for crate in generated hand; do
  {
    echo 'pub fn use_all(counter: &mut u64) -> u32 {'
    echo '    let mut total = 0;'
    for ((i = 0; i < N; i++)); do
      echo "    let Ok(v) = block_on(async { async_with!(m$i(&mut *counter, 1) => |v| v + 1) });"
      echo '    total += v;'
    done
    echo '    total'
    echo '}'
  } >>"$WORK/$crate/src/lib.rs"
done

export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR="$WORK/target"
cd "$WORK"
echo "compile_time: $N managers per crate, profile $PROFILE, $REPS runs each, in $WORK" >&2
# Build everything once: the dependencies stay built; this also checks both crates compile.
cargo build --quiet --profile "$PROFILE" -p contextlib-compile-time-generated -p contextlib-compile-time-hand

declare -A times=([generated]="" [hand]="")
for ((rep = 0; rep < REPS; rep++)); do
  for crate in generated hand; do
    cargo clean --quiet --profile "$PROFILE" -p "contextlib-compile-time-$crate" 2>/dev/null
    start=$(date +%s.%N)
    cargo build --quiet --offline --profile "$PROFILE" -p "contextlib-compile-time-$crate"
    end=$(date +%s.%N)
    elapsed="$(python3 -c "print(f'{$end - $start:.3f}')")"
    times[$crate]+="$elapsed "
    echo "  run $((rep + 1)): $crate ${elapsed}s" >&2
  done
done

python3 - "$N" "$PROFILE" "${times[generated]}" "${times[hand]}" <<'PY'
import statistics, sys
n, profile, generated, hand = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
generated, hand = [float(t) for t in generated], [float(t) for t in hand]
med_g, med_h = statistics.median(generated), statistics.median(hand)
print(f"Compile time of {n} managers (+ one async_with! use each), profile {profile}, "
      f"crate's own build only")
print()
print("| crate | runs (s) | median (s) | min (s) |")
print("|---|---|---:|---:|")
print(f"| #[async_context_manager] | {' '.join(f'{t:.2f}' for t in generated)} | {med_g:.2f} | {min(generated):.2f} |")
print(f"| hand-written | {' '.join(f'{t:.2f}' for t in hand)} | {med_h:.2f} | {min(hand):.2f} |")
print()
print(f"ratio (attribute / hand-written): {med_g / med_h:.2f}x median, "
      f"{min(generated) / min(hand):.2f}x min")
PY
