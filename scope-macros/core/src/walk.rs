//! The walker: goes through a model body (or a top-level `scope!`, or a `#[checked]` fn) in
//! source order, records every `var!`, `scope!`, direct `get_variable`, hand-opened scope guard
//! and model call as an [`Item`], and replaces each `var!`/`scope!` invocation with its
//! expansion so that the item and its expansion come from one parse.
//!
//! What the walk knows, and how it stays exact:
//! - contexts are bindings: the model's parameter, each `scope!`'s rebinding, a reborrow
//!   (`&mut *cx`, `let cx2 = &mut *cx;`), a hand-opened guard (`let g = cx.variable_scope("a")?;`),
//!   and in a `#[checked]` fn the first `let cx = graph.scope();`. Any other binding of a name
//!   (a closure, a fn pointer, another scope) is not a context, and calls through it are opaque;
//! - each item records the arms (`if`/`match` arms, loop bodies, `let .. else` blocks) it sits
//!   in, so that an earlier item only counts against a later one when it has run whenever the
//!   later one runs ("must" facts); a declaration on every arm of an exhaustive `if`/`match` is
//!   hoisted out of it, an arm that diverges (`return`, `break`, `panic!`) is left out;
//! - a `reuse_variables()` that may or may not have run (in an arm, after an opaque call that
//!   could switch reuse) makes the mode [`Mode::Maybe`]: never a duplicate, still checked for
//!   shapes and dtypes;
//! - the arguments of the common std macros (`vec!`, `println!`, `assert!`, ..) are walked as
//!   the ordinary expressions they are.
//!
//! Closures, `async` blocks and nested items are not walked: they may run any number of times,
//! so the `var!`/`scope!` inside them expand on their own and the runtime checks them.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Lit, Macro, Pat, Stmt, Token};

use crate::args::{self, ReuseOpt, ScopeArgs, VarArgs};
use crate::ast::{Item, Kind, Mode, Seg};
use crate::{expand, name, symbol};

/// Deepest nesting of `scope!`s the walk follows; deeper nesting is a compile error (the
/// walk, and rustc after it, would otherwise run out of stack).
pub const MAX_SCOPE_NESTING: usize = 256;

/// One open scope.
struct Frame {
    /// The path from the root of the walk.
    segs: Vec<Seg>,
    /// The mode in force; `reuse_variables()` switches it to `Reuse`.
    mode: Mode,
    /// A literal `dtype =` of the innermost scope that sets one (`None`: the caller's default,
    /// or not a literal).
    dtype: Option<String>,
}

/// What a name is bound to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Binding {
    /// A context in the frame with this index.
    Frame(usize),
    /// Anything else: a local value, a closure, a parameter that is not the context.
    Local,
}

/// Where the walk starts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// A `#[model]` body: its top level is the caller's scope.
    Model,
    /// A `scope!` outside any model.
    Scope,
    /// A `#[checked]` fn: contexts come from `graph.scope()`.
    Checked,
}

/// The walker's state and its results.
pub struct Walker {
    /// Recorded items, in source order.
    pub items: Vec<Item>,
    /// Errors found so far.
    pub errors: Vec<syn::Error>,
    /// `use` items found in the body, replayed where callee paths are resolved.
    pub uses: Vec<syn::ItemUse>,
    /// The paths of the `var!`/`scope!`/`opaque!` invocations the walk expanded.
    pub macro_paths: Vec<TokenStream>,
    /// `macro_paths` as text, to compare them.
    macro_path_keys: Vec<String>,
    /// The model's name, for messages.
    model: String,
    /// Type parameters of the model: calls through them are opaque.
    type_params: Vec<Ident>,
    frames: Vec<Frame>,
    bindings: Vec<(Ident, Binding)>,
    branch: Vec<(u32, u32)>,
    next_branch: u32,
    next_dynamic: u32,
    /// How many loops enclose the walk.
    loop_depth: usize,
    /// How many of the enclosing loops (outermost first) have opened a dynamic scope since
    /// they began: under it, a literal path differs from one iteration to the next.
    dyn_loops: usize,
    /// For each item, `dyn_loops` when it was recorded: the item's path is fixed across the
    /// iterations of the enclosing loops from that index on.
    fixed_from: Vec<usize>,
    root: Root,
    /// Whether a `#[checked]` fn has bound its root context.
    root_bound: bool,
    nesting: usize,
    nesting_reported: bool,
}

/// A context expression resolved: the frame, and the segments a temporary guard adds
/// (`cx.variable_scope("a")?.get_variable(..)`).
struct CtxRef {
    frame: usize,
    extra: Vec<Seg>,
    mode: Option<Mode>,
}

impl Walker {
    /// A walker for a body whose context variable is `cx` (ignored for [`Root::Checked`],
    /// whose contexts are found in the body).
    pub fn new(cx: Ident, model: String, type_params: Vec<Ident>, root: Root) -> Walker {
        let bindings = if root == Root::Checked { Vec::new() } else { vec![(cx, Binding::Frame(0))] };
        Walker {
            items: Vec::new(),
            errors: Vec::new(),
            uses: Vec::new(),
            macro_paths: Vec::new(),
            macro_path_keys: Vec::new(),
            model,
            type_params,
            frames: vec![Frame { segs: Vec::new(), mode: Mode::Create, dtype: None }],
            bindings,
            branch: Vec::new(),
            next_branch: 0,
            next_dynamic: 0,
            loop_depth: 0,
            dyn_loops: 0,
            fixed_from: Vec::new(),
            root,
            root_bound: false,
            nesting: 0,
            nesting_reported: false,
        }
    }

    /// Binds the other parameters of the fn: names that are not contexts.
    pub fn bind_locals(&mut self, idents: impl IntoIterator<Item = Ident>) {
        let cx = self.bindings.first().map(|b| b.0.clone());
        for ident in idents {
            if Some(&ident) != cx.as_ref() {
                self.bindings.insert(0, (ident, Binding::Local));
            }
        }
    }

    /// Finishes the walk: derives each item's `cond` from its arms.
    pub fn finish(&mut self) {
        for item in &mut self.items {
            item.cond = item.must > 0;
        }
    }

    fn lookup(&self, ident: &Ident) -> Option<Binding> {
        self.bindings.iter().rev().find(|(name, _)| name == ident).map(|(_, b)| *b)
    }

    /// The frame a context expression refers to: a bound context, possibly reborrowed or
    /// parenthesised.
    fn frame_of(&self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 && p.path.leading_colon.is_none() => {
                match self.lookup(&p.path.segments[0].ident)? {
                    Binding::Frame(f) => Some(f),
                    Binding::Local => None,
                }
            }
            Expr::Reference(r) if r.mutability.is_some() => self.frame_of(&r.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.frame_of(&u.expr),
            Expr::Paren(p) => self.frame_of(&p.expr),
            Expr::Group(g) => self.frame_of(&g.expr),
            _ => None,
        }
    }

    /// Like [`frame_of`](Self::frame_of), also through a temporary guard
    /// `cx.variable_scope("a")?`.
    fn ctx_of(&mut self, expr: &Expr) -> Option<CtxRef> {
        if let Some(frame) = self.frame_of(expr) {
            return Some(CtxRef { frame, extra: Vec::new(), mode: None });
        }
        let inner = match expr {
            Expr::Try(t) => &*t.expr,
            Expr::MethodCall(m) if (m.method == "unwrap" || m.method == "expect") => &*m.receiver,
            _ => return None,
        };
        let (frame, arg) = self.guard_call(inner)?;
        let (extra, mode) = self.guard_segments(&arg, self.frames[frame].mode);
        Some(CtxRef { frame, extra, mode: Some(mode) })
    }

    /// `cx.variable_scope(arg)` or `Scope::variable_scope(cx, arg)` on a known context.
    fn guard_call(&self, expr: &Expr) -> Option<(usize, Expr)> {
        match expr {
            Expr::MethodCall(m) if m.method == symbol::VARIABLE_SCOPE && m.args.len() == 1 => {
                Some((self.frame_of(&m.receiver)?, m.args[0].clone()))
            }
            Expr::Call(c) if c.args.len() == 2 && path_ends_with(&c.func, symbol::VARIABLE_SCOPE) => {
                Some((self.frame_of(&c.args[0])?, c.args[1].clone()))
            }
            _ => None,
        }
    }

    /// The segments and mode of a hand-opened guard: a literal name adds its segments and
    /// inherits the mode; anything else (a `VarScope` with options) is dynamic.
    fn guard_segments(&mut self, arg: &Expr, parent: Mode) -> (Vec<Seg>, Mode) {
        if let Some(lit) = lit_str(arg)
            && let Some(segs) = name::segments(&lit.value())
        {
            return (segs.into_iter().map(literal_seg).collect(), parent);
        }
        let seg = self.dynamic_seg(format!("{{{}}}", short(arg)));
        (vec![seg], Mode::Unknown)
    }

    fn dynamic_seg(&mut self, shown: String) -> Seg {
        self.next_dynamic += 1;
        Seg { key: format!("\u{0}dyn{}", self.next_dynamic), name: shown, dynamic: true }
    }

    fn push_frame(&mut self, parent: usize, extra: Vec<Seg>, mode: Mode, dtype: Option<String>) -> usize {
        let mut segs = self.frames[parent].segs.clone();
        segs.extend(extra);
        self.frames.push(Frame { segs, mode, dtype });
        self.frames.len() - 1
    }

    fn record(&mut self, at: CtxRef, mut segs_extra: Vec<Seg>, kind: Kind, site_tokens: TokenStream, site: String) {
        let frame = &self.frames[at.frame];
        let mut segs = frame.segs.clone();
        segs.extend(at.extra);
        segs.append(&mut segs_extra);
        let mode = at.mode.unwrap_or(frame.mode);
        let mut kind = kind;
        if let Kind::Var { dtype: dtype @ None, .. } = &mut kind {
            dtype.clone_from(&frame.dtype);
        }
        let dynamic_name = matches!(kind, Kind::Var { dynamic_name: true, .. });
        let dynamic = dynamic_name || segs.iter().any(|s| s.dynamic);
        let lo = site_tokens.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
        let hi = site_tokens.clone().into_iter().last().map_or(lo, |t| t.span());
        let line = u32::try_from(lo.start().line).unwrap_or(0);
        self.fixed_from.push(self.dyn_loops);
        self.items.push(Item {
            segs,
            mode,
            dynamic,
            cond: false,
            looped: false,
            branch: self.branch.clone(),
            must: self.branch.len(),
            kind,
            site_tokens,
            lo,
            hi,
            line,
            site,
        });
    }

    /// Handles a macro invocation; returns the replacement expression, if any.
    fn handle_macro(&mut self, mac: &Macro) -> Option<Expr> {
        let last = mac.path.segments.last()?.ident.to_string();
        let tokens = match last.as_str() {
            symbol::VAR => self.handle_var(mac),
            symbol::SCOPE => self.handle_scope(mac.tokens.clone(), &mac.to_token_stream()),
            symbol::OPAQUE => {
                // Whatever the marked expression does may switch reuse in the contexts it names.
                self.maybe_switched(&mac.tokens);
                let inner = &mac.tokens;
                quote!((#inner))
            }
            other => return self.handle_std_macro(mac, other),
        };
        // The expansion replaces the invocation; the macro's path is remembered so that the
        // expansion can name it once (`use path as _;`) and the user's import stays used.
        self.note_macro_path(mac.path.to_token_stream());
        Some(Expr::Verbatim(tokens))
    }

    /// Walks the arguments of a std macro that evaluates them as ordinary expressions. Any
    /// other macro that names a context is a call the checks cannot see into (it may expand to
    /// `var!` or `reuse_variables()`): it is recorded as opaque, so the manifest says it is not
    /// followed, and the contexts it names may reuse from then on.
    fn handle_std_macro(&mut self, mac: &Macro, name: &str) -> Option<Expr> {
        if !self.mentions_context(mac.tokens.clone()) {
            return None;
        }
        if !symbol::STD_EXPR_MACROS.contains(&name) {
            if let Some(frame) = self.first_context(mac.tokens.clone()) {
                let at = CtxRef { frame, extra: Vec::new(), mode: None };
                let callee = format!("{name}!");
                let site = format!("{name}!(cx, ..)");
                self.record(at, Vec::new(), Kind::Opaque { callee }, mac.to_token_stream(), site);
            }
            self.maybe_switched(&mac.tokens);
            return None;
        }
        let conditional = name.starts_with("debug_");
        let mut new = mac.clone();
        // `vec![x; n]`.
        let repeat = |s: syn::parse::ParseStream<'_>| -> syn::Result<(Expr, Token![;], Expr)> {
            Ok((s.parse()?, s.parse()?, s.parse()?))
        };
        if conditional {
            self.next_branch += 1;
            self.branch.push((self.next_branch, 0));
        }
        if name == "vec"
            && let Ok((mut a, semi, mut b)) = repeat.parse2(mac.tokens.clone())
        {
            self.visit_expr_mut(&mut a);
            self.visit_expr_mut(&mut b);
            new.tokens = quote!(#a #semi #b);
        } else if let Ok(mut list) = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(mac.tokens.clone()) {
            for e in list.iter_mut() {
                self.visit_expr_mut(e);
            }
            new.tokens = list.to_token_stream();
        }
        if conditional {
            self.branch.pop();
        }
        Some(Expr::Macro(syn::ExprMacro { attrs: Vec::new(), mac: new }))
    }

    fn handle_var(&mut self, mac: &Macro) -> TokenStream {
        let site_tokens = mac.to_token_stream();
        match args::parse_var(mac.tokens.clone(), &site_tokens, &mut self.errors) {
            Err(e) => {
                self.errors.push(e);
                expand::malformed_var()
            }
            Ok(a) => {
                if let Some(name) = &a.name {
                    let (extra, leaf, dynamic_name) = self.var_name(name);
                    let kind = var_kind(&a, leaf, dynamic_name);
                    let site = format!("var!({}, {})", a.cx, short(name));
                    let at = self.ctx_of(&a.cx_expr);
                    self.record_at(at, extra, kind, site_tokens, site);
                }
                expand::var(&a)
            }
        }
    }

    /// Records an item in the frame `at`, or as dynamic when the context is not known.
    fn record_at(&mut self, at: Option<CtxRef>, extra: Vec<Seg>, kind: Kind, site_tokens: TokenStream, site: String) {
        let at = match at {
            Some(at) => at,
            None => {
                let seg = self.dynamic_seg("{context}".to_owned());
                CtxRef { frame: 0, extra: vec![seg], mode: Some(Mode::Unknown) }
            }
        };
        self.record(at, extra, kind, site_tokens, site);
    }

    /// Splits a variable name into extra scope segments and the leaf.
    fn var_name(&mut self, name: &Expr) -> (Vec<Seg>, String, bool) {
        if let Some(lit) = lit_str(name) {
            let value = lit.value();
            if let Some(c) = name::invalid_char(&value) {
                self.errors.push(invalid_name(&lit, &value, c, "variable"));
            } else if value.is_empty() {
                self.errors.push(syn::Error::new(lit.span(), "empty variable name: give the variable a name"));
            } else if let Some(mut segs) = name::segments(&value) {
                let leaf = segs.pop().unwrap_or_default();
                return (segs.into_iter().map(literal_seg).collect(), leaf, false);
            }
        }
        (Vec::new(), format!("{{{}}}", short(name)), true)
    }

    /// Handles one `scope!` invocation given its arguments and its whole tokens.
    pub fn handle_scope(&mut self, tokens: TokenStream, site_tokens: &TokenStream) -> TokenStream {
        if self.nesting >= MAX_SCOPE_NESTING {
            if !self.nesting_reported {
                self.nesting_reported = true;
                let span = site_tokens.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
                self.errors.push(syn::Error::new(
                    span,
                    format!(
                        "`scope!`s nest more than {MAX_SCOPE_NESTING} deep here: too deep for the \
                         compile-time check; move the inner part into a `#[model]` fn"
                    ),
                ));
            }
            // The invocations inside are not expanded: keep their imports used.
            self.note_macro_paths(&tokens);
            return expand::malformed_scope();
        }
        let mut a = match args::parse_scope(tokens.clone(), site_tokens, &mut self.errors) {
            Err(e) => {
                self.errors.push(e);
                // Still expand the body, in a scope the checks treat as unknown, so that no
                // follow-on errors appear (types flow through the body as written).
                match args::recover_scope(tokens) {
                    Some(a) => a,
                    None => return expand::malformed_scope(),
                }
            }
            Ok(a) => a,
        };
        let at = self.frame_of(&a.cx_expr);
        let parent_mode = at.map_or(Mode::Unknown, |f| self.frames[f].mode);
        let (segs, mode, dynamic) = self.scope_segments(&a, parent_mode);
        let (segs, mode, dynamic) = if at.is_some() {
            (segs, mode, dynamic)
        } else {
            let seg = self.dynamic_seg("{context}".to_owned());
            (vec![seg], Mode::Unknown, true)
        };
        let parent = at.unwrap_or(0);
        let dtype = match &a.dtype {
            None => self.frames[parent].dtype.clone(),
            Some(e) => literal_dtype(e),
        };
        let frame = self.push_frame(parent, segs, mode, dtype);
        self.bindings.push((a.cx.clone(), Binding::Frame(frame)));
        let saved = self.dyn_loops;
        if dynamic {
            self.dyn_loops = self.loop_depth;
        }
        self.nesting += 1;
        self.visit_block_mut(&mut a.body);
        self.nesting -= 1;
        self.dyn_loops = saved;
        self.bindings.pop();
        self.frames.truncate(frame);
        expand::scope(&a)
    }

    /// The segments a `scope!` adds, its mode, and whether its name is dynamic.
    fn scope_segments(&mut self, a: &ScopeArgs, parent: Mode) -> (Vec<Seg>, Mode, bool) {
        let option = match &a.reuse {
            None => Mode::Create,
            Some(ReuseOpt::Reuse(_)) => Mode::Reuse,
            Some(ReuseOpt::Auto(_)) => Mode::Auto,
            Some(ReuseOpt::Dynamic(_)) => Mode::Unknown,
        };
        let mut mode = parent.inherit(option);
        match (&a.name, &a.default_name) {
            (Some(name), _) => {
                if let Some(lit) = lit_str(name) {
                    let value = lit.value();
                    if let Some(c) = name::invalid_char(&value) {
                        self.errors.push(invalid_name(&lit, &value, c, "scope"));
                    } else if value.is_empty() {
                        // TensorFlow and the runtime accept an empty scope name; it names a
                        // path of its own (`outer//w`), which the checks keep apart.
                        return (vec![literal_seg(String::new())], mode, false);
                    } else if let Some(segs) = name::segments(&value) {
                        return (segs.into_iter().map(literal_seg).collect(), mode, false);
                    }
                } else if !is_format(name) {
                    // Possibly a captured scope, whose reuse flag is only known at run time.
                    mode = Mode::Unknown;
                }
                let seg = self.dynamic_seg(format!("{{{}}}", short(name)));
                (vec![seg], mode, true)
            }
            (None, Some(default)) => {
                if let Some(lit) = lit_str(default) {
                    let value = lit.value();
                    if let Some(c) = name::invalid_char(&value) {
                        self.errors.push(invalid_name(&lit, &value, c, "scope"));
                    }
                }
                let shown = match lit_str(default) {
                    Some(lit) => format!("{}_N", lit.value()),
                    None => "{default_name}".to_owned(),
                };
                let seg = self.dynamic_seg(shown);
                (vec![seg], mode, true)
            }
            (None, None) => {
                let seg = self.dynamic_seg("{missing}".to_owned());
                (vec![seg], mode, true)
            }
        }
    }

    /// Remembers the paths of the `var!`/`scope!`/`opaque!` invocations in `tokens` that are
    /// not expanded, so that their imports stay used.
    /// Remembers one macro path (once per distinct spelling).
    fn note_macro_path(&mut self, path: TokenStream) {
        let key = path.to_string();
        if !self.macro_path_keys.contains(&key) {
            self.macro_path_keys.push(key);
            self.macro_paths.push(path);
        }
    }

    fn note_macro_paths(&mut self, tokens: &TokenStream) {
        let mut prev: Option<Ident> = None;
        for tt in tokens.clone() {
            match &tt {
                TokenTree::Punct(p) if p.as_char() == '!' => {
                    if let Some(i) = prev.take()
                        && (i == symbol::VAR || i == symbol::SCOPE || i == symbol::OPAQUE)
                    {
                        self.note_macro_path(i.to_token_stream());
                    }
                }
                TokenTree::Ident(i) => {
                    prev = Some(i.clone());
                    continue;
                }
                TokenTree::Group(g) => self.note_macro_paths(&g.stream()),
                _ => {}
            }
            prev = None;
        }
    }

    /// The frame of the first context that `tokens` name.
    fn first_context(&self, tokens: TokenStream) -> Option<usize> {
        tokens.into_iter().find_map(|tt| match tt {
            TokenTree::Ident(i) => match self.lookup(&i) {
                Some(Binding::Frame(f)) => Some(f),
                _ => None,
            },
            TokenTree::Group(g) => self.first_context(g.stream()),
            _ => None,
        })
    }

    /// Marks every frame whose context `tokens` name as possibly switched to reuse.
    fn maybe_switched(&mut self, tokens: &TokenStream) {
        for tt in tokens.clone() {
            match tt {
                TokenTree::Ident(i) => {
                    if let Some(Binding::Frame(f)) = self.lookup(&i) {
                        let frame = &mut self.frames[f];
                        if frame.mode == Mode::Create {
                            frame.mode = Mode::Maybe;
                        }
                    }
                }
                TokenTree::Group(g) => self.maybe_switched(&g.stream()),
                _ => {}
            }
        }
    }

    fn reuse_variables(&mut self, frame: usize, call: &dyn ToTokens) {
        if frame == 0 && self.root == Root::Model {
            self.errors.push(syn::Error::new_spanned(
                call,
                format!(
                    "`reuse_variables()` at the top level of `#[model] fn {}` would switch \
                     the caller's scope to reuse after the model returns; call it inside a \
                     `scope!(cx, \"name\" {{ .. }})` or open the scope with `reuse`",
                    self.model
                ),
            ));
        }
        let f = &mut self.frames[frame];
        f.mode = f.mode.inherit(Mode::Reuse);
    }

    fn handle_call(&mut self, call: &syn::ExprCall) {
        let Some(first) = call.args.first() else {
            return;
        };
        let Some(at) = self.ctx_of(first) else {
            return;
        };
        let site_tokens = call.to_token_stream();
        if path_ends_with(&call.func, symbol::REUSE_VARIABLES) && at.extra.is_empty() {
            self.reuse_variables(at.frame, call);
            return;
        }
        if path_ends_with(&call.func, symbol::GET_VARIABLE) {
            if let Some(kind) = get_variable_kind(call.args.iter().skip(1)) {
                let (extra, kind) = self.split_leaf(kind);
                let site = format!("get_variable({}, ..)", short(&call.args[1]));
                self.record(at, extra, kind, site_tokens, site);
            }
            return;
        }
        let kind = match &*call.func {
            Expr::Path(p) if p.qself.is_none() && self.is_model_path(&p.path) => {
                let segments: Vec<Ident> = p.path.segments.iter().map(|s| s.ident.unraw()).collect();
                let callee = segments.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("::");
                let colon = p.path.leading_colon;
                let span = call.func.span();
                let idents = p.path.segments.iter().map(|s| &s.ident);
                let manifest = quote::quote_spanned!(span=> #colon #(#idents::)* MANIFEST);
                let idents = p.path.segments.iter().map(|s| &s.ident);
                let path = quote::quote_spanned!(span=> #colon #(#idents)::*);
                Kind::Call { manifest, path, callee }
            }
            other => Kind::Opaque { callee: short(other) },
        };
        let opaque = matches!(kind, Kind::Opaque { .. });
        let site = match &kind {
            Kind::Call { callee, .. } | Kind::Opaque { callee } => format!("{callee}(cx, ..)"),
            Kind::Var { .. } => String::new(),
        };
        let frame = at.frame;
        self.record(at, Vec::new(), kind, site_tokens, site);
        if opaque {
            // A call the checks cannot see into may call `reuse_variables()` on the context.
            let f = &mut self.frames[frame];
            if f.mode == Mode::Create {
                f.mode = Mode::Maybe;
            }
        }
    }

    /// Whether a call path names a `#[model]` fn by the conventions the macro can rely on
    /// without name resolution: no segment but the last names a type (CamelCase, `Self`, a
    /// type parameter), and a single segment is not a local binding (a closure, a fn pointer).
    fn is_model_path(&self, path: &syn::Path) -> bool {
        let segs: Vec<&syn::PathSegment> = path.segments.iter().collect();
        let Some((last, init)) = segs.split_last() else {
            return false;
        };
        let type_like = |i: &Ident| {
            let s = i.unraw().to_string();
            s == "Self" || s.starts_with(|c: char| c.is_ascii_uppercase()) || self.type_params.iter().any(|t| t == i)
        };
        if init.iter().any(|s| type_like(&s.ident) || !s.arguments.is_none()) || type_like(&last.ident) {
            return false;
        }
        if init.is_empty() && path.leading_colon.is_none() && self.lookup(&last.ident).is_some() {
            return false;
        }
        // The std library's functions (`drop(guard)`, `std::mem::take(..)`) are no models.
        let std_root = segs.len() > 1 && matches!(segs[0].ident.to_string().as_str(), "std" | "core" | "alloc");
        let prelude = init.is_empty() && symbol::STD_FNS.contains(&last.ident.to_string().as_str());
        !std_root && !prelude
    }

    /// Splits a `get_variable` name into scope segments and the leaf.
    fn split_leaf(&mut self, kind: Kind) -> (Vec<Seg>, Kind) {
        if let Kind::Var { name, dynamic_name: false, shape, dtype, init, trainable } = &kind
            && let Some(mut segs) = name::segments(name)
            && name::invalid_char(name).is_none()
        {
            let leaf = segs.pop().unwrap_or_default();
            let kind = Kind::Var {
                name: leaf,
                dynamic_name: false,
                shape: shape.clone(),
                dtype: dtype.clone(),
                init: init.clone(),
                trainable: *trainable,
            };
            return (segs.into_iter().map(literal_seg).collect(), kind);
        }
        if let Kind::Var { name, shape, dtype, init, trainable, .. } = kind {
            return (
                Vec::new(),
                Kind::Var { name: format!("{{{name}}}"), dynamic_name: true, shape, dtype, init, trainable },
            );
        }
        (Vec::new(), kind)
    }

    fn handle_method_call(&mut self, call: &syn::ExprMethodCall) {
        if let Some(at) = self.ctx_of(&call.receiver) {
            if call.method == symbol::REUSE_VARIABLES {
                if at.extra.is_empty() {
                    self.reuse_variables(at.frame, call);
                }
                return;
            }
            if call.method == symbol::GET_VARIABLE {
                if let Some(kind) = get_variable_kind(call.args.iter()) {
                    let (extra, kind) = self.split_leaf(kind);
                    let site = format!("get_variable({}, ..)", short(&call.args[0]));
                    self.record(at, extra, kind, call.to_token_stream(), site);
                }
                return;
            }
            return;
        }
        if let Some(at) = call.args.first().and_then(|a| self.ctx_of(a)) {
            let callee = format!("{}.{}", short(&call.receiver), call.method);
            let site = format!("{callee}(cx, ..)");
            let frame = at.frame;
            self.record(at, Vec::new(), Kind::Opaque { callee }, call.to_token_stream(), site);
            let f = &mut self.frames[frame];
            if f.mode == Mode::Create {
                f.mode = Mode::Maybe;
            }
        }
    }

    /// Binds the names a `let` pattern introduces.
    fn bind_pattern(&mut self, pat: &Pat, init: Option<&Expr>) {
        let single = match pat {
            Pat::Ident(p) if p.subpat.is_none() => Some(&p.ident),
            Pat::Type(t) => match &*t.pat {
                Pat::Ident(p) if p.subpat.is_none() => Some(&p.ident),
                _ => None,
            },
            _ => None,
        };
        if let (Some(ident), Some(init)) = (single, init) {
            if let Some(frame) = self.frame_of(init) {
                self.bindings.push((ident.clone(), Binding::Frame(frame)));
                return;
            }
            let guard = match init {
                Expr::Try(t) => Some(&*t.expr),
                Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => Some(&*m.receiver),
                _ => None,
            };
            if let Some((parent, arg)) = guard.and_then(|g| self.guard_call(g)) {
                let (extra, mode) = self.guard_segments(&arg, self.frames[parent].mode);
                let dtype = self.frames[parent].dtype.clone();
                let frame = self.push_frame(parent, extra, mode, dtype);
                self.bindings.push((ident.clone(), Binding::Frame(frame)));
                return;
            }
            let made = match init {
                Expr::Reference(r) if r.mutability.is_some() => &*r.expr,
                other => other,
            };
            if self.root == Root::Checked
                && let Expr::MethodCall(m) = made
                && m.method == symbol::GRAPH_SCOPE
                && m.args.is_empty()
            {
                // The first context of a `#[checked]` fn is the root of the walk; another one
                // may belong to another graph, so it is left to the runtime.
                let binding = if self.root_bound {
                    let seg = self.dynamic_seg("{another context}".to_owned());
                    Binding::Frame(self.push_root(seg))
                } else {
                    self.root_bound = true;
                    Binding::Frame(0)
                };
                self.bindings.push((ident.clone(), binding));
                return;
            }
        }
        let mut idents = Vec::new();
        pattern_idents(pat, &mut idents);
        for ident in idents {
            self.bindings.push((ident, Binding::Local));
        }
    }

    /// A frame for another root context, whose items are dynamic. It stays open until the
    /// end of the walk (it sits below the frames of any open block).
    fn push_root(&mut self, seg: Seg) -> usize {
        self.push_frame(0, vec![seg], Mode::Unknown, None)
    }

    /// Walks one arm (an `if`/`match` arm, a loop body, a `let .. else` block) of the branch
    /// `site`; returns whether it diverges.
    fn arm(&mut self, site: u32, arm: u32, walk: impl FnOnce(&mut Walker) -> bool) -> bool {
        self.branch.push((site, arm));
        let diverges = walk(self);
        self.branch.pop();
        diverges
    }

    fn modes(&self) -> Vec<Mode> {
        self.frames.iter().map(|f| f.mode).collect()
    }

    fn set_modes(&mut self, modes: &[Mode]) {
        for (f, m) in self.frames.iter_mut().zip(modes) {
            f.mode = *m;
        }
    }

    /// Joins the frame modes at the ends of the arms that do not diverge: one mode if they
    /// agree, [`Mode::Maybe`] where they do not.
    fn join_modes(&mut self, before: &[Mode], ends: &[Vec<Mode>]) {
        if ends.is_empty() {
            self.set_modes(before);
            return;
        }
        let mut joined = ends[0].clone();
        for end in &ends[1..] {
            for (j, m) in joined.iter_mut().zip(end) {
                if *j != *m {
                    *j = join(*j, *m);
                }
            }
        }
        self.set_modes(&joined);
    }

    /// Walks the arms of an `if`/`else` chain or a `match` (`arms` walks arm `k` and returns
    /// whether it diverges), then hoists out what every arm that does not diverge declares.
    fn branches(&mut self, count: usize, exhaustive: bool, mut arms: impl FnMut(&mut Walker, usize) -> bool) {
        self.next_branch += 1;
        let site = self.next_branch;
        let depth = self.branch.len();
        let start = self.items.len();
        let before = self.modes();
        let mut ends = Vec::new();
        let mut live = Vec::new();
        for k in 0..count {
            self.set_modes(&before);
            let arm = u32::try_from(k).unwrap_or(u32::MAX);
            let diverges = self.arm(site, arm, |w| arms(w, k));
            if !diverges {
                ends.push(self.modes());
                live.push(arm);
            }
        }
        if !exhaustive {
            ends.push(before.clone());
        }
        self.join_modes(&before, &ends);
        if exhaustive && !live.is_empty() {
            self.hoist(start, site, depth, &live);
        }
    }

    /// Items of the arms `live` of branch `site` (at depth `depth`) that a twin declares on
    /// every one of them: the first of each is hoisted out of the branch.
    fn hoist(&mut self, start: usize, site: u32, depth: usize, live: &[u32]) {
        let sig = |it: &Item| -> Option<String> {
            if it.dynamic {
                return None;
            }
            let path: Vec<&str> = it.segs.iter().map(|s| s.key.as_str()).collect();
            match &it.kind {
                Kind::Var { name, shape, dtype, .. } => {
                    Some(format!("v {:?} {name} {:?} {shape:?} {dtype:?}", path, it.mode))
                }
                Kind::Call { manifest, .. } => Some(format!("c {:?} {manifest} {:?}", path, it.mode)),
                Kind::Opaque { .. } => None,
            }
        };
        let in_arm = |it: &Item, arm: u32| it.must == depth + 1 && it.branch.get(depth) == Some(&(site, arm));
        let mut common: Option<Vec<String>> = None;
        for &arm in live {
            let sigs: Vec<String> = self.items[start..].iter().filter(|it| in_arm(it, arm)).filter_map(sig).collect();
            common = Some(match common {
                None => sigs,
                Some(c) => c.into_iter().filter(|s| sigs.contains(s)).collect(),
            });
        }
        let common = common.unwrap_or_default();
        let first = live[0];
        let mut done: Vec<String> = Vec::new();
        for k in start..self.items.len() {
            if !in_arm(&self.items[k], first) {
                continue;
            }
            if let Some(s) = sig(&self.items[k])
                && common.contains(&s)
                && !done.contains(&s)
            {
                self.items[k].must = depth;
                done.push(s);
            }
        }
    }

    /// Walks a loop body that runs at least `runs` times whenever the loop is reached (unless it
    /// leaves early): an arm of its own. The items at the body's top level that come before any
    /// statement that can leave the iteration (`break`, `continue`, `return`) run on every
    /// iteration that starts: when the loop provably runs once, they are hoisted out of the
    /// arm; when it provably runs twice and cannot leave early, with nothing switching reuse
    /// across iterations, those under a path fixed across iterations are looped. A loop whose
    /// count is not literal may run once or not at all: nothing in it is looped.
    fn loop_body(&mut self, body: &mut syn::Block, runs: u128) {
        self.next_branch += 1;
        let site = self.next_branch;
        let start = self.items.len();
        let before = self.modes();
        let stops = may_exit(body.to_token_stream(), false);
        let first_exit = body.stmts.iter().position(|s| may_exit(s.to_token_stream(), true)).unwrap_or(usize::MAX);
        self.branch.push((site, 0));
        let depth = self.branch.len();
        let index = self.loop_depth;
        self.loop_depth += 1;
        let prefix_end = self.walk_block(body, first_exit);
        self.loop_depth -= 1;
        self.branch.pop();
        let after = self.modes();
        let same_modes = after == before;
        for k in start..prefix_end {
            if self.items[k].must != depth {
                continue;
            }
            if runs >= 2 && !stops && same_modes && self.fixed_from[k] <= index {
                self.items[k].looped = true;
            }
            if runs >= 1 {
                self.items[k].must = depth - 1;
            }
        }
        if !same_modes {
            // Later iterations run in another mode: the first iteration's creations are not
            // repeated as creations.
            for item in &mut self.items[start..] {
                item.looped = false;
            }
            let ends = vec![before.clone(), after];
            self.join_modes(&before, &ends);
        }
    }

    /// Walks a block, restoring the bindings and the guard frames it opened at its end;
    /// returns how many items had been recorded when the walk reached statement `mark` (all of
    /// them when the block is shorter).
    fn walk_block(&mut self, b: &mut syn::Block, mark: usize) -> usize {
        let bindings = self.bindings.len();
        let frames = self.frames.len();
        let n = b.stmts.len();
        let mut at_mark = None;
        for (k, stmt) in b.stmts.iter_mut().enumerate() {
            if k == mark {
                at_mark = Some(self.items.len());
            }
            // A braced statement macro (`opaque! { .. }`) in the middle of a block ends its
            // statement; its expansion must too.
            let braced_mid = matches!(stmt, Stmt::Macro(m) if m.semi_token.is_none() && matches!(m.mac.delimiter, syn::MacroDelimiter::Brace(_)))
                && k + 1 < n;
            self.visit_stmt_mut(stmt);
            if braced_mid && let Stmt::Expr(_, semi @ None) = stmt {
                *semi = Some(Default::default());
            }
        }
        self.bindings.truncate(bindings);
        self.frames.truncate(frames);
        at_mark.unwrap_or(self.items.len())
    }

    /// Walks a block, restoring the bindings and the guard frames it opened at its end.
    fn block(&mut self, b: &mut syn::Block) -> bool {
        self.visit_block_mut(b);
        block_diverges(b)
    }
}

/// The join of two modes that a branch leaves: equal modes stay, others may or may not reuse.
fn join(a: Mode, b: Mode) -> Mode {
    match (a, b) {
        _ if a == b => a,
        (Mode::Unknown, _) | (_, Mode::Unknown) => Mode::Unknown,
        _ => Mode::Maybe,
    }
}

impl VisitMut for Walker {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.walk_block(b, usize::MAX);
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        if let Some(init) = &mut l.init {
            self.visit_expr_mut(&mut init.expr);
            if let Some((_, diverge)) = &mut init.diverge {
                // The `else` block of a `let .. else` runs only when the pattern fails, and
                // diverges: an arm of its own.
                self.next_branch += 1;
                let site = self.next_branch;
                let before = self.modes();
                self.arm(site, 0, |w| {
                    w.visit_expr_mut(diverge);
                    true
                });
                self.set_modes(&before);
            }
        }
        let init = l.init.as_ref().map(|i| (*i.expr).clone());
        self.bind_pattern(&l.pat, init.as_ref());
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Macro(m) => {
                if let Some(new) = self.handle_macro(&m.mac) {
                    *e = new;
                }
                return;
            }
            Expr::Closure(_) | Expr::Async(_) => return,
            Expr::Block(b) => {
                self.block(&mut b.block);
                return;
            }
            Expr::If(i) => {
                self.if_chain(i);
                return;
            }
            Expr::Match(m) => {
                self.visit_expr_mut(&mut m.expr);
                let arms = &mut m.arms;
                let count = arms.len();
                self.branches(count, true, |w, k| {
                    let arm = &mut arms[k];
                    let bindings = w.bindings.len();
                    let mut idents = Vec::new();
                    pattern_idents(&arm.pat, &mut idents);
                    w.bindings.extend(idents.into_iter().map(|i| (i, Binding::Local)));
                    if let Some((_, guard)) = &mut arm.guard {
                        w.visit_expr_mut(guard);
                    }
                    w.visit_expr_mut(&mut arm.body);
                    w.bindings.truncate(bindings);
                    expr_diverges(&arm.body)
                });
                return;
            }
            Expr::ForLoop(f) => {
                let runs = literal_iterations(&f.expr);
                self.visit_expr_mut(&mut f.expr);
                let bindings = self.bindings.len();
                let mut idents = Vec::new();
                pattern_idents(&f.pat, &mut idents);
                self.bindings.extend(idents.into_iter().map(|i| (i, Binding::Local)));
                self.loop_body(&mut f.body, runs);
                self.bindings.truncate(bindings);
                return;
            }
            Expr::While(w) => {
                self.visit_expr_mut(&mut w.cond);
                self.loop_body(&mut w.body, 0);
                return;
            }
            Expr::Loop(l) => {
                self.loop_body(&mut l.body, u128::MAX);
                return;
            }
            Expr::Call(c) => {
                visit_mut::visit_expr_call_mut(self, c);
                self.handle_call(c);
                return;
            }
            Expr::MethodCall(c) => {
                visit_mut::visit_expr_method_call_mut(self, c);
                self.handle_method_call(c);
                return;
            }
            _ => {}
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_stmt_mut(&mut self, s: &mut Stmt) {
        if let Stmt::Macro(m) = s {
            if let Some(new) = self.handle_macro(&m.mac) {
                *s = Stmt::Expr(new, m.semi_token);
            }
            return;
        }
        visit_mut::visit_stmt_mut(self, s);
    }

    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        if let syn::Item::Use(u) = item {
            self.uses.push(u.clone());
        }
    }
}

impl Walker {
    /// An `if`/`else if`/`else` chain: one branch whose arms are the chain's blocks; the
    /// condition of an `else if` runs only when the earlier ones fail, so it is in its arm.
    fn if_chain(&mut self, i: &mut syn::ExprIf) {
        self.visit_expr_mut(&mut i.cond);
        let exhaustive = chain_is_exhaustive(i);
        let count = chain_len(i);
        self.branches(count, exhaustive, |w, k| w.chain_arm(i, k));
    }

    fn chain_arm(&mut self, i: &mut syn::ExprIf, k: usize) -> bool {
        if k == 0 {
            return self.block(&mut i.then_branch);
        }
        match i.else_branch.as_mut().map(|(_, e)| &mut **e) {
            Some(Expr::If(next)) => {
                if k == 1 {
                    self.visit_expr_mut(&mut next.cond);
                }
                self.chain_arm(next, k - 1)
            }
            Some(Expr::Block(b)) => self.block(&mut b.block),
            Some(other) => {
                self.visit_expr_mut(other);
                expr_diverges(other)
            }
            None => false,
        }
    }

    /// Whether `tokens` invoke `var!`, `scope!` or `opaque!`, or name a context: only then
    /// does a std macro's argument list need walking.
    fn mentions_context(&self, tokens: TokenStream) -> bool {
        let mut prev: Option<Ident> = None;
        for tt in tokens {
            match &tt {
                TokenTree::Punct(p)
                    if p.as_char() == '!'
                        && prev
                            .as_ref()
                            .is_some_and(|i| i == symbol::VAR || i == symbol::SCOPE || i == symbol::OPAQUE) =>
                {
                    return true;
                }
                TokenTree::Ident(i) => {
                    if matches!(self.lookup(i), Some(Binding::Frame(_))) {
                        return true;
                    }
                    prev = Some(i.clone());
                    continue;
                }
                TokenTree::Group(g) if self.mentions_context(g.stream()) => return true,
                _ => {}
            }
            prev = None;
        }
        false
    }
}

/// The number of arms of an `if` chain: its blocks, the final `else` included.
fn chain_len(i: &syn::ExprIf) -> usize {
    match i.else_branch.as_ref().map(|(_, e)| &**e) {
        Some(Expr::If(n)) => 1 + chain_len(n),
        Some(_) => 2,
        None => 1,
    }
}

/// Whether an `if` chain ends with a plain `else`.
fn chain_is_exhaustive(i: &syn::ExprIf) -> bool {
    match i.else_branch.as_ref().map(|(_, e)| &**e) {
        Some(Expr::If(n)) => chain_is_exhaustive(n),
        Some(_) => true,
        None => false,
    }
}

/// Whether a block surely leaves by `return`, `break`, `continue` or a panic, at its top level.
fn block_diverges(b: &syn::Block) -> bool {
    b.stmts.iter().any(|s| match s {
        Stmt::Expr(e, _) => expr_diverges(e),
        Stmt::Macro(m) => diverging_macro(&m.mac),
        _ => false,
    })
}

fn expr_diverges(e: &Expr) -> bool {
    match e {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Macro(m) => diverging_macro(&m.mac),
        Expr::Block(b) => block_diverges(&b.block),
        Expr::Paren(p) => expr_diverges(&p.expr),
        _ => false,
    }
}

fn diverging_macro(m: &Macro) -> bool {
    m.path.segments.last().is_some_and(|s| {
        let n = s.ident.to_string();
        matches!(n.as_str(), "panic" | "unreachable" | "todo" | "unimplemented")
    })
}

/// Whether loop-body tokens can leave the loop early (`break` or `return` anywhere in them, or
/// a macro other than varscope's and std's, which may expand to either), or with `continue`
/// too, the current iteration.
fn may_exit(tokens: TokenStream, or_continue: bool) -> bool {
    let mut prev: Option<Ident> = None;
    for tt in tokens {
        match &tt {
            TokenTree::Ident(i) => {
                if i == "break" || i == "return" || or_continue && i == "continue" {
                    return true;
                }
                prev = Some(i.clone());
                continue;
            }
            // `name!` with `!` alone (not `!=`) after a name that is no keyword (`if !x`).
            TokenTree::Punct(p) if p.as_char() == '!' && p.spacing() == proc_macro2::Spacing::Alone => {
                if let Some(name) = prev.take() {
                    let name = name.to_string();
                    let keyword = matches!(name.as_str(), "if" | "while" | "match" | "in" | "else" | "let" | "mut");
                    let known = keyword
                        || [symbol::VAR, symbol::SCOPE, symbol::OPAQUE].contains(&name.as_str())
                        || symbol::STD_EXPR_MACROS.contains(&name.as_str())
                        || matches!(name.as_str(), "panic" | "unreachable" | "todo" | "unimplemented");
                    if !known {
                        return true;
                    }
                }
            }
            TokenTree::Group(g) if may_exit(g.stream(), or_continue) => return true,
            _ => {}
        }
        prev = None;
    }
    false
}

/// How many times a `for` loop over `e` runs its body at least, as far as `e` says literally: a
/// range of integer literals (`0..3`, `1..=2`, `0..`), an array literal (`[a, b]`, `[x; 3]`) or
/// `vec![..]`, a reference to one, or one of these through `iter()`, `into_iter()`,
/// `iter_mut()`, `rev()`, `enumerate()`, `copied()` or `cloned()`; 0 for anything else.
fn literal_iterations(e: &Expr) -> u128 {
    fn int(e: &Expr) -> Option<i128> {
        match e {
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => i.base10_parse::<i128>().ok(),
                _ => None,
            },
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => int(&u.expr).map(|v| -v),
            Expr::Paren(p) => int(&p.expr),
            _ => None,
        }
    }
    let count = |n: usize| u128::try_from(n).unwrap_or(0);
    match e {
        Expr::Range(r) => {
            let Some(start) = r.start.as_deref().and_then(int) else {
                return 0;
            };
            let Some(end) = r.end.as_deref() else {
                // `start..` never ends.
                return if r.start.is_some() && matches!(r.limits, syn::RangeLimits::HalfOpen(_)) {
                    u128::MAX
                } else {
                    0
                };
            };
            let Some(end) = int(end) else {
                return 0;
            };
            let end = if matches!(r.limits, syn::RangeLimits::Closed(_)) { end.saturating_add(1) } else { end };
            u128::try_from(end.saturating_sub(start)).unwrap_or(0)
        }
        Expr::Array(a) => count(a.elems.len()),
        Expr::Repeat(r) => int(&r.len).and_then(|n| u128::try_from(n).ok()).unwrap_or(0),
        Expr::Reference(r) => literal_iterations(&r.expr),
        Expr::Paren(p) => literal_iterations(&p.expr),
        Expr::Group(g) => literal_iterations(&g.expr),
        Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(
                    m.method.to_string().as_str(),
                    "iter" | "into_iter" | "iter_mut" | "rev" | "enumerate" | "copied" | "cloned"
                ) =>
        {
            literal_iterations(&m.receiver)
        }
        Expr::Macro(m) if m.mac.path.is_ident("vec") => {
            let repeat = |s: syn::parse::ParseStream<'_>| -> syn::Result<(Expr, Token![;], Expr)> {
                Ok((s.parse()?, s.parse()?, s.parse()?))
            };
            if let Ok((_, _, n)) = repeat.parse2(m.mac.tokens.clone()) {
                return int(&n).and_then(|n| u128::try_from(n).ok()).unwrap_or(0);
            }
            Punctuated::<Expr, Token![,]>::parse_terminated.parse2(m.mac.tokens.clone()).map_or(0, |l| count(l.len()))
        }
        _ => 0,
    }
}

/// Every identifier a pattern binds.
fn pattern_idents(pat: &Pat, out: &mut Vec<Ident>) {
    struct Collect<'a>(&'a mut Vec<Ident>);
    impl syn::visit::Visit<'_> for Collect<'_> {
        fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
            self.0.push(p.ident.clone());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    syn::visit::Visit::visit_pat(&mut Collect(out), pat);
}

/// Whether a call's callee is a path whose last segment is `name`.
fn path_ends_with(func: &Expr, name: &str) -> bool {
    matches!(func, Expr::Path(p) if p.path.segments.len() > 1 && p.path.segments.last().is_some_and(|s| s.ident == name))
}

/// The `Kind::Var` of a direct `get_variable(name, shape or spec)` with a literal name.
fn get_variable_kind<'a>(mut args: impl Iterator<Item = &'a Expr>) -> Option<Kind> {
    let name = args.next()?;
    let lit = lit_str(name)?;
    let shape = args.next().and_then(literal_shape);
    Some(Kind::Var { name: lit.value(), dynamic_name: false, shape, dtype: None, init: String::new(), trainable: None })
}

fn literal_seg(s: String) -> Seg {
    Seg { key: s.clone(), name: s, dynamic: false }
}

/// The `Kind::Var` of a parsed `var!`.
fn var_kind(a: &VarArgs, name: String, dynamic_name: bool) -> Kind {
    Kind::Var {
        name,
        dynamic_name,
        shape: a.shape.as_ref().and_then(literal_shape),
        dtype: a.dtype.as_ref().and_then(literal_dtype),
        init: a.init.as_ref().map(|i| compact(&i.to_token_stream())).unwrap_or_default(),
        trainable: match &a.trainable {
            Some(Expr::Lit(l)) => match &l.lit {
                Lit::Bool(b) => Some(b.value),
                _ => None,
            },
            _ => None,
        },
    }
}

/// A shape written as an array (or a reference to one) of integer literals.
pub fn literal_shape(e: &Expr) -> Option<Vec<usize>> {
    match e {
        Expr::Array(a) => a
            .elems
            .iter()
            .map(|x| match x {
                Expr::Lit(l) => match &l.lit {
                    Lit::Int(i) => i.base10_parse::<usize>().ok(),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        Expr::Reference(r) => literal_shape(&r.expr),
        Expr::Paren(p) => literal_shape(&p.expr),
        _ => None,
    }
}

/// A dtype written as a path ending in `F32`, `F64` or `I32`.
pub fn literal_dtype(e: &Expr) -> Option<String> {
    if let Expr::Path(p) = e {
        let last = p.path.segments.last()?.ident.to_string();
        if matches!(last.as_str(), "F32" | "F64" | "I32") {
            return Some(last.to_lowercase());
        }
    }
    None
}

/// The string literal `e` is, if it is one.
pub fn lit_str(e: &Expr) -> Option<syn::LitStr> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Some(s.clone()),
            _ => None,
        },
        Expr::Paren(p) => lit_str(&p.expr),
        _ => None,
    }
}

/// Whether `e` is a `format!(..)` call (a plain string: reuse is inherited).
fn is_format(e: &Expr) -> bool {
    matches!(e, Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "format"))
}

/// The error for a literal name that TensorFlow refuses.
pub fn invalid_name(lit: &syn::LitStr, value: &str, c: char, what: &str) -> syn::Error {
    syn::Error::new(
        lit.span(),
        format!(
            "`{value}` is not a valid {what} name: TensorFlow refuses {c:?} (names use only \
             letters, digits and `_.-/>\\`); rename it"
        ),
    )
}

/// Token text without the spaces that token printing inserts.
pub fn compact(tokens: &TokenStream) -> String {
    let mut out = String::new();
    let mut prev_word = false;
    for tt in tokens.clone() {
        let text = match &tt {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                format!("{open}{}{close}", compact(&g.stream()))
            }
            TokenTree::Punct(p) => {
                let s = p.as_char().to_string();
                if p.as_char() == ',' || p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Alone {
                    s + " "
                } else {
                    s
                }
            }
            TokenTree::Ident(i) => i.unraw().to_string(),
            other => other.to_string(),
        };
        let word = matches!(tt, TokenTree::Ident(_) | TokenTree::Literal(_));
        let brace = matches!(&tt, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
        if (word || brace) && prev_word {
            out.push(' ');
        }
        prev_word = word;
        out.push_str(&text);
    }
    out.trim_end().replace(":: ", "::")
}

/// A short rendering of an expression for messages: long ones are cut.
fn short(e: &Expr) -> String {
    let text = compact(&e.to_token_stream());
    if text.chars().count() > 40 {
        let cut: String = text.chars().take(37).collect();
        format!("{cut}..")
    } else {
        text
    }
}
