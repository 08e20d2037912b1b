//! Issue 14, part 4: the attribute on bad input never panics. A seeded generator feeds it every
//! `#[async_context_manager]` fn of this repository and thousands of mutations of them (tokens
//! dropped, swapped, duplicated; `r#yield!` put into every kind of position; odd arguments and
//! attributes). Each output must be code that parses as items: the manager, or a
//! `compile_error!` next to a stand-in fn.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;

/// How many inputs one run feeds the attribute (at least).
const INPUTS: usize = 10_000;

/// Every fn of the repository with the attribute, without it: the seeds of the mutations.
fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds = Vec::new();
    for dir in ["tests", "examples", "benches", "contextlib-core/src"] {
        collect(&root.join(dir), &mut seeds);
    }
    seeds
}

fn collect(dir: &Path, seeds: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, seeds);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            // Doc examples too: strip the `///` of comment lines holding code.
            let code: String = text
                .lines()
                .map(|line| line.trim_start().strip_prefix("/// ").unwrap_or(line))
                .collect::<Vec<_>>()
                .join("\n");
            for source in [text, code] {
                let Ok(file) = syn::parse_file(&source) else {
                    continue;
                };
                let mut finder = Finder(seeds);
                syn::visit::Visit::visit_file(&mut finder, &file);
            }
        }
    }
}

struct Finder<'a>(&'a mut Vec<String>);

impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
    fn visit_item_fn(&mut self, function: &'ast syn::ItemFn) {
        self.keep(&function.attrs, function.to_token_stream());
        syn::visit::visit_item_fn(self, function);
    }
    fn visit_impl_item_fn(&mut self, function: &'ast syn::ImplItemFn) {
        self.keep(&function.attrs, function.to_token_stream());
        syn::visit::visit_impl_item_fn(self, function);
    }
}

impl Finder<'_> {
    fn keep(&mut self, attrs: &[syn::Attribute], tokens: TokenStream) {
        let is_manager = attrs.iter().any(|attribute| {
            attribute
                .path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "async_context_manager")
        });
        if is_manager {
            // The attribute itself is what is under test: strip it from the input.
            let text = tokens.to_string();
            let without = text.replacen("# [async_context_manager]", "", 1).replacen(
                "# [contextlib :: async_context_manager]",
                "",
                1,
            );
            self.0.push(without);
        }
    }
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The input as a flat list of token texts, groups as their delimiters.
fn flatten(tokens: TokenStream, out: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                out.push(open.into());
                flatten(group.stream(), out);
                out.push(close.into());
            }
            other => out.push(other.to_string()),
        }
    }
}

fn is_delimiter(token: &str) -> bool {
    matches!(token, "(" | ")" | "{" | "}" | "[" | "]" | "")
}

/// What a mutation may insert: yields in odd places, odd arguments, attributes, macros.
const INSERTS: &[&str] = &[
    "r#yield!(1);",
    "r#yield!();",
    "yield!(1);",
    "loop { r#yield!(1); }",
    "|| r#yield!(1);",
    "async { r#yield!(1) };",
    "match 1 { 0 | _ if r#yield!(1).is_ok() => {} _ => {} }",
    "if true { r#yield!(1); } else { r#yield!(2); }",
    "#[cfg(any())] r#yield!(1);",
    "println!(\"{:?}\", r#yield!(1));",
    "async_with!(m() => |x| { r#yield!(x); });",
    "async_with!(m(r#yield!(1)) => |x| x);",
    "contextlib::async_with!(m() => |ref mut x| { r#yield!(x) })",
    "fn nested() { r#yield!(1); }",
    "const { r#yield!(1) };",
    "#![allow(unused)]",
    "return Ok(());",
    "?",
    "'__acm_family",
    "'target",
    "'elided",
    "'arg0",
    "&'_ mut",
    "impl Trait",
    "Self",
    "self,",
    "_: Guard,",
    "(a, _): (u8, u8),",
    "-> Result<&mut u8, E>",
    "-> m!()",
    "where T: 'static",
    "<'a, T>",
    "unsafe",
    "const",
    "extern \"C\"",
    "...",
];

fn mutate(seed: &str, rng: &mut u64) -> Option<TokenStream> {
    let mut tokens = Vec::new();
    flatten(TokenStream::from_str(seed).ok()?, &mut tokens);
    for _ in 0..1 + next(rng) % 3 {
        let len = tokens.len().max(1);
        let at = (next(rng) as usize) % len;
        match next(rng) % 4 {
            0 if !is_delimiter(&tokens[at]) => {
                tokens.remove(at);
            }
            1 => {
                let other = (next(rng) as usize) % len;
                if !is_delimiter(&tokens[at]) && !is_delimiter(&tokens[other]) {
                    tokens.swap(at, other);
                }
            }
            2 if !is_delimiter(&tokens[at]) => {
                let copy = tokens[at].clone();
                tokens.insert(at, copy);
            }
            _ => {
                let insert = INSERTS[(next(rng) as usize) % INSERTS.len()];
                tokens.insert(at, insert.to_string());
            }
        }
    }
    TokenStream::from_str(&tokens.join(" ")).ok()
}

/// The first and last positions of `tokens`.
fn extent(tokens: TokenStream) -> ((usize, usize), (usize, usize)) {
    let mut first = (usize::MAX, usize::MAX);
    let mut last = (0, 0);
    fn walk(tokens: TokenStream, first: &mut (usize, usize), last: &mut (usize, usize)) {
        for token in tokens {
            let span = token.span();
            *first = (*first).min((span.start().line, span.start().column));
            *last = (*last).max((span.end().line, span.end().column));
            if let TokenTree::Group(group) = token {
                walk(group.stream(), first, last);
            }
        }
    }
    walk(tokens, &mut first, &mut last);
    (first, last)
}

/// The spans of the `compile_error` invocations in `tokens`.
fn compile_error_spans(tokens: TokenStream) -> Vec<proc_macro2::Span> {
    let mut spans = Vec::new();
    for token in tokens {
        match token {
            TokenTree::Ident(ident) if ident == "compile_error" => spans.push(ident.span()),
            TokenTree::Group(group) => spans.extend(compile_error_spans(group.stream())),
            _ => {}
        }
    }
    spans
}

fn args_for(rng: &mut u64) -> TokenStream {
    let args = [
        "",
        "",
        "",
        "crate = my::contextlib",
        "crate",
        "send",
        "crate = ",
        "crate = 1",
    ];
    TokenStream::from_str(args[(next(rng) as usize) % args.len()]).unwrap()
}

#[test]
fn the_attribute_never_panics_and_always_gives_items() {
    let seeds = seeds();
    assert!(
        seeds.len() >= 40,
        "only {} managers found to start from",
        seeds.len()
    );
    let mut rng = 0x00dd_ba11_u64;
    let mut fed = 0;
    let mut refused = 0;
    let mut case = 0usize;
    while fed < INPUTS {
        let seed = &seeds[case % seeds.len()];
        case += 1;
        let input = if case <= seeds.len() {
            TokenStream::from_str(seed).expect("a seed lexes")
        } else {
            match mutate(seed, &mut rng) {
                Some(input) => input,
                None => continue, // the mutation broke the token structure: not an input
            }
        };
        let args = if case <= seeds.len() {
            TokenStream::new()
        } else {
            args_for(&mut rng)
        };
        let shown = input.to_string();
        let (first, last) = extent(input.clone());
        let output = catch_unwind(AssertUnwindSafe(|| super::attribute(args, input)))
            .unwrap_or_else(|_| panic!("the attribute panicked on:\n{shown}"));
        let text = output.to_string();
        let output_copy = output.clone();
        if let Err(error) = syn::parse2::<syn::File>(output) {
            panic!("the output does not parse as items ({error}):\n{text}\n\ninput:\n{shown}");
        }
        if text.contains("compile_error") {
            refused += 1;
            for span in compile_error_spans(output_copy) {
                let at = (span.start().line, span.start().column);
                assert!(
                    first <= at && at <= last,
                    "an error spanned outside its input (at {at:?}, input {first:?}..{last:?}):\n{text}\n\ninput:\n{shown}"
                );
            }
        }
        fed += 1;
    }
    println!(
        "fuzz: {fed} inputs from {} managers of the repository, {refused} refused with a \
         compile error, 0 panics",
        seeds.len()
    );
}
