//! The error budget of the common mistakes (issue 15, "Diagnostics"): each common mistake a user
//! makes with `#[async_context_manager]`, `#[contextlib::with]` or `async_with!` costs
//!
//! - at most [`BUDGET`] errors (`error:` and `error[E..]:` headers),
//! - the first of them spanned on the user's own tokens: its `-->` points into the case's own
//!   `.rs` file, at a line of it that is not blank,
//! - and no expansion internals in any of the text: no `__acm`, `__private` or
//!   `Generated<for<'__acm` (a generated manager's type printed with the expansion's lifetime
//!   names; printed with its readable ones, `Generated<for<'target, 'elided> ..>`, it is the
//!   type the user's rustdoc shows too).
//!
//! Each mistake is a trybuild case under `tests/ui/`; `tests/ui.rs` checks that its committed
//! `.stderr` is what the compiler really prints, so this test reads the `.stderr` as the truth.
//!
//! A case that is over the budget today carries `known_over_budget`: the reason, and its
//! current error count and number of lines leaking internals. It is printed loudly on every
//! run, and the test fails if it gets worse than those numbers. Any case without the mark fails
//! the test as soon as it goes over the budget.
use std::path::{Path, PathBuf};

/// At most this many errors for one common mistake.
const BUDGET: usize = 2;

/// Text that names the expansion's internals; no user should have to read it.
const INTERNALS: [&str; 3] = ["__acm", "__private", "Generated<for<'__acm"];

struct Case {
    /// The case's name under `tests/ui/`, without `.rs`.
    name: &'static str,
    /// The mistake, as a user would describe it.
    mistake: &'static str,
    known_over_budget: Option<OverBudget>,
}

/// A case over the budget today, with what it costs today: it may get better, never worse.
struct OverBudget {
    reason: &'static str,
    errors: usize,
    leaking_lines: usize,
}

const fn case(name: &'static str, mistake: &'static str) -> Case {
    Case {
        name,
        mistake,
        known_over_budget: None,
    }
}

const fn over(
    name: &'static str,
    mistake: &'static str,
    reason: &'static str,
    errors: usize,
    leaking_lines: usize,
) -> Case {
    Case {
        name,
        mistake,
        known_over_budget: Some(OverBudget {
            reason,
            errors,
            leaking_lines,
        }),
    }
}

#[rustfmt::skip]
const COMMON_MISTAKES: &[Case] = &[
    // Writing a manager.
    case("forgotten_ok", "a fallible manager's body does not end with `Ok(())`"),
    case("teardown_wrong_error_type", "the teardown ends in another error type than declared"),
    case("yield_wrong_type", "the yielded value is not of the declared target type"),
    case("yield_evaluates_to_exit", "the yield's value bound as if it were sent in (`let x: u32 = r#yield!(1)`)"),
    case("no_yield", "a manager without `r#yield!`"),
    case("yields_on_one_path", "two yields on one path"),
    case("yield_in_loop", "a yield in a loop"),
    case("yield_in_closure", "a yield in a closure"),
    case("yield_in_match_guard", "a yield in a match guard"),
    case("yield_in_async_block", "a yield in an async block"),
    case("yield_in_nested_fn", "a yield in a nested fn"),
    case("yield_outside_manager", "`r#yield!` in a fn without the attribute"),
    case("bare_yield_keyword", "`yield!` instead of `r#yield!`"),
    case("not_async", "the attribute on a fn that is not `async`"),
    case("impl_trait_target", "an `impl Trait` target"),
    case("hidden_lifetime_target", "a target with a hidden lifetime (`Ref<u8>`)"),
    case("invariant_target", "a target invariant in the manager borrow (`&mut Tx<'_>`)"),
    case("lends_local_for_static", "a `'static` target lending the manager's local"),
    case("lends_local_for_argument_lifetime", "a target with an argument's lifetime lending a local"),
    case("invariant_option_behind_mut", "`&mut Option<&mut dyn Write>` as the target"),
    case("gat_target_borrowing_manager", "a GAT target borrowing the manager (`P::Conn<'_>`)"),
    case("gat_target_of_impl_parameter", "the same, on a parameter of the surrounding `impl`"),
    case("refused_manager_in_use", "a refused manager used by `async_with!`"),
    case("impl_lifetime_named_target", "a surrounding `impl`'s lifetime named `'target`"),
    case("block_error_borrows_local", "a block error borrowing a local (`Err(name.as_str())`)"),
    case("rc_across_yield_not_send", "a manager holding an `Rc` across its yield, spawned"),
    case("target_not_send_across_block", "a target that is not `Send` held across the block, spawned"),
    case("cell_across_yield_not_sync", "a manager holding a `Cell` borrow across its yield, spawned"),
    // The decorator form.
    case("with_no_argument", "`#[contextlib::with]` without a manager"),
    case("with_not_async", "`#[contextlib::with]` on a fn that is not `async`"),
    case("with_body_yields", "`#[contextlib::with]` on a fn whose body yields"),
    case("with_pattern_without_manager", "`#[contextlib::with(=> x)]` without a manager"),
    case("with_fallible_manager_plain_return", "`#[contextlib::with]` with a fallible manager on a fn not returning `Result`"),
    // Entering: `async_with!`.
    case("async_with_move", "`move |x|` as the target pattern"),
    case("async_with_typed_target", "`|x: T|` as the target pattern"),
    case("not_a_manager", "a value that is not a manager passed to `async_with!`"),
    case("mixed_tuple_errors", "a tuple of managers with different error types"),
    case("mixed_concurrent_errors", "`concurrent` over managers with different error types"),
    case("block_error_without_from", "the block's error type cannot hold the manager's error"),
    case("question_mark_in_plain_block", "`?` in a block that returns a plain value"),
    case("question_mark_on_infallible_async_with", "`?` on an infallible `async_with!` (`Result<_, Infallible>`) in a fallible block"),
    case("question_mark_beside_infallible_async_with", "an infallible `async_with!` as the value of a block that uses `?`"),
    case("tracing_instrument_under_the_attribute", "`#[tracing::instrument]` under the attribute"),
    case("tracing_instrument_above_the_attribute", "`#[tracing::instrument]` above the attribute"),
    // The type hint (issue 21).
    case("target_does_not_match_bound", "a manager whose target is not the one a bound asks for"),
    case("type_hint_without_target", "`AsyncContextManager![]` without a target"),
    over(
        "hand_written_target_gat",
        "a hand-written manager still written with `type Target<'a>`",
        "the former associated type is not a member (E0437), and the missing `Lend` impl is \
         reported where the trait requires it and where `enter` names the target (E0277, twice, \
         each with the one-line migration); the second E0277 comes from the user's own `enter` \
         signature, which rustc checks separately from the impl header",
        3, 0,
    ),
    over(
        "target_escapes_block",
        "the target returned out of the block",
        "the floor of a safe expansion: the escaping borrow conflicts with the exit, which \
         takes the manager back (E0499), and with the end of each of two storages (E0716): the \
         manager pinned by `core::pin::pin!` and the guard holding that pin. Three other \
         layouts were tried (the guard owning the manager and pinned itself, reached through a \
         reference to the pin, the exit consuming the pin): three errors each",
        3, 0,
    ),
    over(
        "target_stored_outside",
        "the target stored in a collection outside the block",
        "as for target_escapes_block",
        3, 0,
    ),
    case("stack_rc_across_exit", "a non-`Send` manager entered into an `ExitStack` in a spawned task"),
    case("stack_error_without_from", "a manager entered into an `ExitStack<E>` whose `E` cannot hold its error"),
    case("stack_enter_infallible_without_from", "an infallible manager entered with `enter` (not `enter_infallible`) into an `ExitStack<MyError>`"),
];

/// What a `.stderr` costs.
struct Cost {
    errors: usize,
    /// Where the first error points: the file and line of its first `-->`.
    first_location: Option<(String, usize)>,
    leaking_lines: Vec<String>,
}

fn is_error_header(line: &str) -> bool {
    if line.starts_with("error: aborting due to") {
        return false;
    }
    if line.starts_with("error:") {
        return true;
    }
    // `error[E0308]:`
    line.strip_prefix("error[E")
        .and_then(|rest| rest.split_once("]:"))
        .is_some_and(|(code, _)| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
}

/// `tests/ui/x.rs:12:5` from a line `  --> tests/ui/x.rs:12:5`.
fn location(line: &str) -> Option<(String, usize)> {
    let place = line.trim_start().strip_prefix("--> ")?;
    let mut parts = place.rsplitn(3, ':');
    let _column = parts.next()?;
    let line_number = parts.next()?.parse().ok()?;
    Some((parts.next()?.to_string(), line_number))
}

fn cost(stderr: &str) -> Cost {
    let mut errors = 0;
    let mut first_location = None;
    for line in stderr.lines() {
        if is_error_header(line) {
            errors += 1;
        } else if errors == 1 && first_location.is_none() {
            first_location = location(line);
        }
    }
    let leaking_lines = stderr
        .lines()
        .filter(|line| INTERNALS.iter().any(|internal| line.contains(internal)))
        .map(str::to_string)
        .collect();
    Cost {
        errors,
        first_location,
        leaking_lines,
    }
}

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui")
}

/// What is wrong with a case, beyond what its mark allows; empty if nothing.
fn problems(case: &Case, cost: &Cost, source: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let (allowed_errors, allowed_leaks) = match &case.known_over_budget {
        Some(over) => (over.errors.max(BUDGET), over.leaking_lines),
        None => (BUDGET, 0),
    };
    if cost.errors == 0 {
        problems.push("no error at all: is this still a compile-fail case?".to_string());
    }
    if cost.errors > allowed_errors {
        problems.push(format!(
            "{} errors, over the allowed {allowed_errors}",
            cost.errors
        ));
    }
    if cost.leaking_lines.len() > allowed_leaks {
        problems.push(format!(
            "{} lines name the expansion's internals, over the allowed {allowed_leaks}:\n    {}",
            cost.leaking_lines.len(),
            cost.leaking_lines.join("\n    ")
        ));
    }
    let own_file = format!("tests/ui/{}.rs", case.name);
    match &cost.first_location {
        Some((file, line)) if *file == own_file => {
            let written = source.lines().nth(line.saturating_sub(1)).unwrap_or("");
            if written.trim().is_empty() {
                problems.push(format!(
                    "the first error points at line {line}, which the user did not write"
                ));
            }
        }
        Some((file, line)) => problems.push(format!(
            "the first error points at {file}:{line}, not into {own_file}"
        )),
        None => problems.push("the first error has no location".to_string()),
    }
    problems
}

#[test]
#[cfg_attr(miri, ignore = "reads files, which Miri's isolation forbids")]
fn common_mistakes_stay_within_the_error_budget() {
    let mut failures = Vec::new();
    for case in COMMON_MISTAKES {
        let read = |extension: &str| {
            let path = ui_dir().join(format!("{}.{extension}", case.name));
            std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        };
        let cost = cost(&read("stderr"));
        let problems = problems(case, &cost, &read("rs"));
        if let Some(over) = &case.known_over_budget {
            eprintln!(
                "!!! OVER THE ERROR BUDGET: tests/ui/{}.rs ({}): {} errors, {} lines naming \
                 internals (budget: {BUDGET} errors, none naming internals)\n!!!     why: {}",
                case.name,
                case.mistake,
                cost.errors,
                cost.leaking_lines.len(),
                over.reason
            );
            if cost.errors <= BUDGET && cost.leaking_lines.is_empty() {
                eprintln!(
                    "!!!     {} is within the budget now: remove its known_over_budget mark",
                    case.name
                );
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "tests/ui/{}.rs ({}):\n  {}",
                case.name,
                case.mistake,
                problems.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "common mistakes over the error budget:\n{}",
        failures.join("\n")
    );
}

/// The counting itself: headers, the first location, and the internals it must find.
#[test]
fn the_cost_of_a_stderr_is_counted() {
    let stderr = "\
error[E0308]: mismatched types
 --> tests/ui/x.rs:6:14
  |
note: method defined here
 --> contextlib-core/src/yield_point.rs
error: lifetime may not live long enough
  --> tests/ui/y.rs:2:1
   = note: required by a bound in `contextlib::__private::Guard`
warning: unused variable
error: aborting due to 2 previous errors
";
    let cost = cost(stderr);
    assert_eq!(cost.errors, 2);
    assert_eq!(cost.first_location, Some(("tests/ui/x.rs".to_string(), 6)));
    assert_eq!(cost.leaking_lines.len(), 1);
    assert!(!is_error_header("error[Eabc]: no"));
    assert!(!is_error_header("  error: indented is not a header"));

    let own = Case {
        name: "x",
        mistake: "",
        known_over_budget: None,
    };
    let source = "\n\n\n\n\n    r#yield!(1);\n";
    // Within the count, but the internals leak: fails.
    assert_eq!(problems(&own, &cost, source).len(), 1);
    // A blank line is not the user's token.
    assert_eq!(problems(&own, &cost, "").len(), 2);
    let marked = Case {
        known_over_budget: Some(OverBudget {
            reason: "",
            errors: 2,
            leaking_lines: 1,
        }),
        ..own
    };
    assert!(problems(&marked, &cost, source).is_empty());
    let elsewhere = Case {
        name: "y",
        ..marked
    };
    assert_eq!(problems(&elsewhere, &cost, source).len(), 1);
}

/// Every case in the table exists, once.
#[test]
#[cfg_attr(miri, ignore = "reads files, which Miri's isolation forbids")]
fn the_table_names_real_cases_once() {
    let mut names: Vec<_> = COMMON_MISTAKES.iter().map(|case| case.name).collect();
    for name in &names {
        assert!(
            ui_dir().join(format!("{name}.rs")).exists(),
            "tests/ui/{name}.rs"
        );
    }
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "a case is listed twice");
}
