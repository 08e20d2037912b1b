//! Finds the body's single `r#yield!(value)` and rewrites it into an await on the manager's
//! yield handle. Refuses a yield where the rewrite would be wrong or unsound: inside a closure,
//! an `async` block, a loop, a match guard, a nested item or another macro's input (except the
//! block of an `async_with!`, which the attribute expands itself), or a second one.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Error, Expr, Macro, Stmt};

use crate::async_with::{AsyncWith, is_async_with_path};
use crate::crate_path::CratePath;

pub struct YieldPoints {
    /// Yields on the path being visited: mutually exclusive branches (`if`/`else`, `match`
    /// arms) each start from the count before them, and the most any of them holds counts.
    found: usize,
    /// Yields anywhere in the body.
    total: usize,
    errors: Vec<Error>,
    context: Vec<Context>,
    yielder: Ident,
    /// The local the yield stores the outer block's `Exit` in, for the `async_with!`s around it.
    outer_exit: Ident,
    /// How many `async_with!` blocks enclose the place being visited.
    async_with_depth: usize,
    /// The path to contextlib.
    krate: TokenStream,
    /// Whether that path was found through Cargo (see `crate_path`).
    krate_trusted: bool,
    /// Whether the yield stands in an `async_with!` block (so `outer_exit` must be declared).
    pub yields_in_async_with: bool,
}

/// What the rewrite found: how many yields, and whether one stands in an `async_with!` block.
pub struct Found {
    pub yields: usize,
    pub in_async_with: bool,
}

#[derive(Clone, Copy)]
enum Context {
    Closure,
    AsyncBlock,
    Loop,
    Item,
    ConstBlock,
    Guard,
    AsyncWithManager,
}

impl Context {
    fn refusal(self) -> &'static str {
        match self {
            Context::Closure => {
                "`r#yield!` cannot be used inside a closure: the yield point must be in the \
                 manager's own body"
            }
            Context::AsyncBlock => {
                "`r#yield!` cannot be used inside an `async` block: it would suspend that block, \
                 not the manager"
            }
            Context::Loop => {
                "`r#yield!` cannot be used inside a loop: a manager yields exactly once"
            }
            Context::Item => {
                "`r#yield!` cannot be used inside a nested item: the yield point must be in the \
                 manager's own body"
            }
            Context::ConstBlock => "`r#yield!` cannot be used inside a `const` block",
            Context::AsyncWithManager => {
                "`r#yield!` cannot be used in the manager expression of an `async_with!`: it may \
                 stand in its block, which runs once the manager has entered"
            }
            Context::Guard => {
                "`r#yield!` cannot be used in a match guard: a guard can run more than once (once \
                 per alternative of an or-pattern), and a manager yields exactly once; bind the \
                 yield's `Exit` before the `match`"
            }
        }
    }
}

impl YieldPoints {
    pub fn new(yielder: Ident, outer_exit: Ident, crate_path: &CratePath) -> Self {
        YieldPoints {
            found: 0,
            total: 0,
            errors: Vec::new(),
            context: Vec::new(),
            yielder,
            outer_exit,
            krate: crate_path.path.clone(),
            krate_trusted: crate_path.trusted,
            async_with_depth: 0,
            yields_in_async_with: false,
        }
    }

    /// Rewrites the yield in `block`; every misplaced yield becomes one combined error.
    pub fn rewrite(mut self, block: &mut Block) -> syn::Result<Found> {
        self.visit_block_mut(block);
        let mut errors = self.errors.into_iter();
        match errors.next() {
            None => Ok(Found {
                yields: self.total,
                in_async_with: self.yields_in_async_with,
            }),
            Some(mut first) => {
                errors.for_each(|error| first.combine(error));
                Err(first)
            }
        }
    }

    fn within(&mut self, context: Context, visit: impl FnOnce(&mut Self)) {
        self.context.push(context);
        visit(self);
        self.context.pop();
    }

    /// The replacement for the macro `mac`, or `None` if it is left alone: a yield, or an
    /// `async_with!` whose block holds one. A yield in any other macro is refused.
    fn rewrite_macro(&mut self, mac: &Macro) -> Option<Expr> {
        if is_yield_path(&mac.path) {
            return Some(self.yield_point(mac));
        }
        if is_async_with_path(&mac.path) && find_yield_token(mac.tokens.clone()).is_some() {
            return Some(self.async_with_around_yield(mac));
        }
        self.refuse_hidden_yields(mac);
        None
    }

    /// `async_with!(manager => |pattern| block)` with the yield in `block`, expanded through
    /// contextlib's own `async_with!`. A macro of that name in scope is not used for the block:
    /// its expansion could put the yield where something else polls it. It is only checked to
    /// be contextlib's (a user macro of that name is refused: ui/user_async_with_around_yield).
    fn async_with_around_yield(&mut self, mac: &Macro) -> Expr {
        let span = mac.path.span();
        let AsyncWith {
            mut manager,
            mut pattern,
            mut block,
        } = match mac.parse_body::<AsyncWith>() {
            Ok(parsed) => parsed,
            Err(error) => {
                self.errors.push(Error::new(
                    error.span(),
                    format!(
                        "{error}: an `async_with!` around the yield is read as \
                         `async_with!(MANAGER => |PATTERN| BLOCK)`"
                    ),
                ));
                return syn::parse_quote_spanned!(span=> ());
            }
        };
        if !self.krate_trusted {
            self.errors.push(Error::new(
                span,
                "a yield inside `async_with!` needs contextlib as a dependency of this crate \
                 (renamed if you like): through `crate = path` alone, the attribute cannot know \
                 that `path::async_with!` is contextlib's, and the yield's soundness rests on it",
            ));
        }
        self.within(Context::AsyncWithManager, |this| {
            this.visit_expr_mut(&mut manager)
        });
        self.visit_pat_mut(&mut pattern);
        self.async_with_depth += 1;
        self.visit_expr_mut(&mut block);
        self.async_with_depth -= 1;
        let outer_exit = &self.outer_exit;
        // The macro the user named is asked, not used: contextlib's `async_with!` expands this
        // to nothing, any other macro of that name refuses it (or says what it likes).
        let path = &mac.path;
        let ours = quote_spanned!(span=> @contextlib_async_with);
        let krate = &self.krate;
        syn::parse_quote_spanned!(span=> {
            #path!(#ours);
            #krate::async_with!(@yielding #outer_exit; #manager => |#pattern| #block)
        })
    }

    /// The replacement for the yield macro `mac`.
    fn yield_point(&mut self, mac: &Macro) -> Expr {
        let span = mac.path.span();
        if let Some(context) = self.context.last() {
            self.errors.push(Error::new(span, context.refusal()));
        } else {
            if self.found > 0 {
                self.errors.push(Error::new(
                    span,
                    "a second `r#yield!` on the same path: an `#[async_context_manager]` fn \
                     yields exactly once (yields in mutually exclusive branches of an `if` or a \
                     `match` are fine)",
                ));
            }
            self.found += 1;
            self.total += 1;
        }
        let mut value: Expr = if mac.tokens.is_empty() {
            syn::parse_quote_spanned!(span=> ())
        } else {
            match mac.parse_body() {
                Ok(value) => value,
                Err(error) => {
                    self.errors.push(error);
                    syn::parse_quote_spanned!(span=> ())
                }
            }
        };
        self.visit_expr_mut(&mut value);
        let yielder = &self.yielder;
        // Located at the yield, so that a mismatch with the `Exit` it evaluates to points there.
        let exit = Ident::new("__acm_exit", Span::mixed_site().located_at(span));
        if self.async_with_depth > 0 {
            // The `async_with!`s around it show their managers this outcome.
            self.yields_in_async_with = true;
            let outer_exit = &self.outer_exit;
            return syn::parse_quote_spanned!(span=> {
                let #exit = #yielder.yield_(#value).await;
                #outer_exit = ::core::option::Option::Some(#exit);
                #exit
            });
        }
        // A block, so that the yield point (which holds the lent borrow) is dropped as soon as
        // it resolves: `match r#yield!(&mut tx) { .. => tx.commit().await }` must compile.
        syn::parse_quote_spanned!(span=> {
            let #exit = #yielder.yield_(#value).await;
            #exit
        })
    }

    /// A yield inside another macro's tokens cannot be rewritten soundly (the macro may put it
    /// in a closure or an `async` block), so it is refused wherever it appears.
    fn refuse_hidden_yields(&mut self, mac: &Macro) {
        if let Some(span) = find_yield_token(mac.tokens.clone()) {
            let name = mac
                .path
                .segments
                .last()
                .map(|segment| segment.ident.to_string());
            self.errors.push(Error::new(
                span,
                format!(
                    "`r#yield!` cannot be used inside another macro (`{}!`): bind it first, as in \
                     `let exit = r#yield!(value);`",
                    name.unwrap_or_default()
                ),
            ));
        }
    }
}

impl VisitMut for YieldPoints {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Macro(found) => {
                if let Some(replacement) = self.rewrite_macro(&found.mac) {
                    *expr = replacement;
                }
            }
            Expr::Yield(found) => self.errors.push(Error::new(
                found.yield_token.span,
                "write the yield point as `r#yield!(value)`: stable Rust rejects `yield` syntax \
                 in an attribute's input",
            )),
            Expr::Closure(_) => self.within(Context::Closure, |this| {
                visit_mut::visit_expr_mut(this, expr)
            }),
            Expr::Async(_) => self.within(Context::AsyncBlock, |this| {
                visit_mut::visit_expr_mut(this, expr)
            }),
            Expr::Const(_) => self.within(Context::ConstBlock, |this| {
                visit_mut::visit_expr_mut(this, expr)
            }),
            Expr::ForLoop(for_loop) => {
                self.visit_expr_mut(&mut for_loop.expr);
                self.within(Context::Loop, |this| {
                    this.visit_pat_mut(&mut for_loop.pat);
                    this.visit_block_mut(&mut for_loop.body);
                });
            }
            Expr::If(found) => {
                for attribute in &mut found.attrs {
                    self.visit_attribute_mut(attribute);
                }
                self.visit_expr_mut(&mut found.cond);
                let before = self.found;
                self.visit_block_mut(&mut found.then_branch);
                let then_branch = core::mem::replace(&mut self.found, before);
                if let Some((_, otherwise)) = &mut found.else_branch {
                    self.visit_expr_mut(otherwise);
                }
                self.found = self.found.max(then_branch);
            }
            Expr::Match(found) => {
                for attribute in &mut found.attrs {
                    self.visit_attribute_mut(attribute);
                }
                self.visit_expr_mut(&mut found.expr);
                let before = self.found;
                let mut most = before;
                for arm in &mut found.arms {
                    self.found = before;
                    self.visit_arm_mut(arm);
                    most = most.max(self.found);
                }
                self.found = most;
            }
            Expr::While(_) | Expr::Loop(_) => {
                self.within(Context::Loop, |this| visit_mut::visit_expr_mut(this, expr))
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        if let Stmt::Macro(found) = stmt {
            if let Some(mut replacement) = self.rewrite_macro(&found.mac) {
                // The statement's attributes (`#[cfg(..)]`) stay on it.
                if let Expr::Block(block) = &mut replacement {
                    block.attrs = std::mem::take(&mut found.attrs);
                }
                *stmt = Stmt::Expr(replacement, found.semi_token);
            }
            return;
        }
        visit_mut::visit_stmt_mut(self, stmt);
    }

    fn visit_block_mut(&mut self, block: &mut Block) {
        // Yield statements under `#[cfg(..)]` in one block are alternatives: the attribute cannot
        // tell which configurations hold, so they count as one yield on the path. (Should two
        // be compiled in, the second panics at run time, clearly, before lending anything.)
        let mut before_cfg_yields = None;
        for stmt in &mut block.stmts {
            if is_cfg_yield(stmt) {
                let before = *before_cfg_yields.get_or_insert(self.found);
                let after_others = std::mem::replace(&mut self.found, before);
                self.visit_stmt_mut(stmt);
                self.found = self.found.max(after_others);
            } else {
                self.visit_stmt_mut(stmt);
            }
        }
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        for attribute in &mut arm.attrs {
            self.visit_attribute_mut(attribute);
        }
        self.visit_pat_mut(&mut arm.pat);
        if let Some((_, guard)) = &mut arm.guard {
            self.within(Context::Guard, |this| this.visit_expr_mut(guard));
        }
        self.visit_expr_mut(&mut arm.body);
    }

    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        self.within(Context::Item, |this| visit_mut::visit_item_mut(this, item));
    }

    fn visit_macro_mut(&mut self, mac: &mut Macro) {
        // Reached only for macros outside expression/statement position (types, patterns).
        self.refuse_hidden_yields(mac);
    }
}

/// `#[cfg(..)] r#yield!(..);`
fn is_cfg_yield(stmt: &Stmt) -> bool {
    let Stmt::Macro(found) = stmt else {
        return false;
    };
    is_yield_path(&found.mac.path)
        && found
            .attrs
            .iter()
            .any(|attribute| attribute.path().is_ident("cfg"))
}

fn is_yield_path(path: &syn::Path) -> bool {
    path.segments
        .last()
        .is_some_and(|segment| segment.ident == "r#yield" || segment.ident == "yield")
}

/// The span of `yield !` or `r#yield !` anywhere in `tokens`.
fn find_yield_token(tokens: TokenStream) -> Option<Span> {
    let mut previous_yield: Option<Span> = None;
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                if let Some(span) = find_yield_token(group.stream()) {
                    return Some(span);
                }
                previous_yield = None;
            }
            TokenTree::Punct(punct) if punct.as_char() == '!' => {
                if previous_yield.is_some() {
                    return previous_yield;
                }
            }
            TokenTree::Ident(ident) if ident == "r#yield" || ident == "yield" => {
                previous_yield = Some(ident.span());
            }
            _ => previous_yield = None,
        }
    }
    None
}

/// If the body ends with its yield (`..; r#yield!(x)` or `..; r#yield!(x);`), the teardown is
/// empty: make the yield a statement and let the body evaluate to "no error".
pub fn complete_tail_yield(block: &mut Block, fallible: bool) {
    let Some(last) = block.stmts.last_mut() else {
        return;
    };
    let is_yield = match last {
        Stmt::Macro(found) => is_yield_path(&found.mac.path),
        Stmt::Expr(Expr::Macro(found), _) => is_yield_path(&found.mac.path),
        _ => false,
    };
    if !is_yield {
        return;
    }
    match last {
        Stmt::Macro(found) => found.semi_token = Some(Default::default()),
        Stmt::Expr(_, semi) => *semi = Some(Default::default()),
        _ => {}
    }
    if fallible {
        let span = last.span();
        block.stmts.push(Stmt::Expr(
            syn::parse2(quote_spanned!(span=> ::core::result::Result::Ok(())))
                .expect("an expression"),
            None,
        ));
    }
}
