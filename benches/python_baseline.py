#!/usr/bin/env python3
"""CPython's cost of one `async with` enter+exit, for the guide's cross-language comparison (Performance).

The same trivial manager as the Rust benches (setup bumps a counter, the block returns the
target plus one, teardown bumps the counter again), written twice:

  (py-a) a hand-written class with `__aenter__` / `__aexit__`;
  (py-b) `@contextlib.asynccontextmanager`, a generator yielding the value.

No event loop: every coroutine here completes without suspending, so a loop of N `async with`
statements runs inside ONE coroutine, driven by a single `.send(None)` (which raises
`StopIteration` when it is done). That times only the enter+exit machinery; asyncio's
`run_until_complete` would add a fixed per-call cost that the Rust benches do not pay either.
A second set of rows also creates and drives one coroutine per `async with` via `.send(None)`
(the analogue of the Rust benches' `block_on` per iteration).

Run: python3 benches/python_baseline.py [--quick]
"""

import contextlib
import platform
import sys
import time

counter = 0


class Hand:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    async def __aenter__(self):
        global counter
        counter += 1
        return self.value

    async def __aexit__(self, exc_type, exc, tb):
        global counter
        counter += 1 if exc_type is None else 2
        return False


@contextlib.asynccontextmanager
async def generated(value):
    global counter
    counter += 1
    try:
        yield value
    except BaseException:
        counter += 2
        raise
    else:
        counter += 1


class BlockFailed(Exception):
    pass


def drive(coroutine):
    """Runs a coroutine that never suspends; returns its value."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("the coroutine suspended")


async def loop(factory, n):
    total = 0
    for _ in range(n):
        async with factory(1) as value:
            total += value + 1
    return total


async def loop_err(factory, n):
    caught = 0
    for _ in range(n):
        try:
            async with factory(1):
                raise BlockFailed()
        except BlockFailed:
            caught += 1
    return caught


async def once(factory):
    async with factory(1) as value:
        return value + 1


def per_coroutine(factory, n):
    for _ in range(n):
        drive(once(factory))


def main():
    quick = "--quick" in sys.argv
    n, repeats = (20_000, 5) if quick else (100_000, 11)
    cases = [
        ("py-a", "hand-written class, loop in one coroutine",
         lambda k: drive(loop(Hand, k))),
        ("py-b", "@asynccontextmanager, loop in one coroutine",
         lambda k: drive(loop(generated, k))),
        ("py-a-err", "(py-a), block raises", lambda k: drive(loop_err(Hand, k))),
        ("py-b-err", "(py-b), block raises", lambda k: drive(loop_err(generated, k))),
        ("py-a-coro", "(py-a), one coroutine per use, .send(None)",
         lambda k: per_coroutine(Hand, k)),
        ("py-b-coro", "(py-b), one coroutine per use, .send(None)",
         lambda k: per_coroutine(generated, k)),
    ]
    # Warm up, then measure round-robin.
    for _, _, run in cases:
        run(1000)
    results = {key: [] for key, _, _ in cases}
    for _ in range(repeats):
        for key, _, run in cases:
            start = time.perf_counter_ns()
            run(n)
            results[key].append((time.perf_counter_ns() - start) / n)
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{n} iterations x {repeats} rounds; ns per enter+exit")
    print()
    print("| variant | what | ns (median) | ns (min) | ratio to its hand-written class |")
    print("|---|---|---:|---:|---:|")
    medians = {}
    for key, what, _ in cases:
        samples = sorted(results[key])
        medians[key] = samples[len(samples) // 2]
        twin = key.replace("py-b", "py-a")
        ratio = f"{medians[key] / medians[twin]:.2f}x" if twin in medians else ""
        print(f"| ({key}) | {what} | {medians[key]:.0f} | {samples[0]:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
