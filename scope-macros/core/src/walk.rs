//! The walker: goes through a model body (or a top-level `scope!`) in source order, records
//! every `var!`, `scope!` and model call as an [`Item`], and replaces each `var!`/`scope!`
//! invocation with its expansion so that the item and its expansion come from one parse.
//!
//! Closures, `async` blocks and nested items are not walked: they may run any number of times,
//! so the `var!`/`scope!` inside them expand on their own and the runtime checks them.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Lit, Macro, Stmt};

use crate::args::{self, ReuseOpt, ScopeArgs, VarArgs};
use crate::ast::{Item, Kind, Mode, Seg};
use crate::{expand, name, symbol};

/// One open scope.
struct Frame {
    /// The path from the root of the walk.
    segs: Vec<Seg>,
    /// The mode in force; `reuse_variables()` switches it to `Reuse`.
    mode: Mode,
    /// The context variable the scope binds.
    cx: Ident,
}

/// Loop state, saved and restored around loops and scopes.
#[derive(Clone, Copy)]
struct LoopState {
    /// Inside a loop body.
    in_loop: bool,
    /// A dynamic scope was opened since the innermost loop began: paths differ per iteration.
    dynamic_since_loop: bool,
    /// The innermost loop calls `reuse_variables()`: later iterations reuse.
    loop_reuses: bool,
}

/// Where the walk starts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// A `#[model]` body: its top level is the caller's scope.
    Model,
    /// A `scope!` outside any model.
    Scope,
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
    /// The model's name, for messages.
    model: String,
    /// Type parameters of the model: calls through them are opaque.
    type_params: Vec<Ident>,
    frames: Vec<Frame>,
    branch: Vec<(u32, u32)>,
    next_branch: u32,
    next_dynamic: u32,
    cond: bool,
    loops: LoopState,
    root: Root,
}

impl Walker {
    /// A walker for a body whose context variable is `cx`.
    pub fn new(cx: Ident, model: String, type_params: Vec<Ident>, root: Root) -> Walker {
        Walker {
            items: Vec::new(),
            errors: Vec::new(),
            uses: Vec::new(),
            macro_paths: Vec::new(),
            model,
            type_params,
            frames: vec![Frame { segs: Vec::new(), mode: Mode::Create, cx }],
            branch: Vec::new(),
            next_branch: 0,
            next_dynamic: 0,
            cond: false,
            loops: LoopState { in_loop: false, dynamic_since_loop: false, loop_reuses: false },
            root,
        }
    }

    fn frame(&self) -> &Frame {
        // The root frame is never popped, so `last` always exists; the fallback only keeps
        // this function total.
        &self.frames[self.frames.len().saturating_sub(1)]
    }

    fn is_cx(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 && p.path.leading_colon.is_none() => {
                let ident = &p.path.segments[0].ident;
                self.frames.iter().any(|f| &f.cx == ident)
            }
            _ => false,
        }
    }

    fn dynamic_seg(&mut self, shown: String) -> Seg {
        self.next_dynamic += 1;
        Seg { key: format!("\u{0}dyn{}", self.next_dynamic), name: shown, dynamic: true }
    }

    fn record(&mut self, mut segs_extra: Vec<Seg>, kind: Kind, site_tokens: TokenStream, site: String) {
        let frame = self.frame();
        let mut segs = frame.segs.clone();
        segs.append(&mut segs_extra);
        let mode = frame.mode;
        let dynamic_name = matches!(kind, Kind::Var { dynamic_name: true, .. });
        let dynamic = dynamic_name || segs.iter().any(|s| s.dynamic);
        let looped = self.loops.in_loop && !self.loops.dynamic_since_loop && !self.loops.loop_reuses;
        let mut iter = site_tokens.clone().into_iter();
        let lo = iter.next().map_or_else(Span::call_site, |t| t.span());
        let hi = site_tokens.clone().into_iter().last().map_or(lo, |t| t.span());
        let line = u32::try_from(lo.start().line).unwrap_or(0);
        self.items.push(Item {
            segs,
            mode,
            dynamic,
            cond: self.cond,
            looped,
            branch: self.branch.clone(),
            kind,
            site_tokens,
            lo,
            hi,
            line,
            site,
        });
    }

    /// Handles `var!`/`scope!`/`opaque!`; returns the replacement expression.
    fn handle_macro(&mut self, mac: &Macro) -> Option<Expr> {
        let last = mac.path.segments.last()?.ident.to_string();
        let tokens = match last.as_str() {
            symbol::VAR => self.handle_var(mac),
            symbol::SCOPE => self.handle_scope(mac.tokens.clone(), &mac.to_token_stream()),
            symbol::OPAQUE => {
                let inner = &mac.tokens;
                quote!((#inner))
            }
            _ => return None,
        };
        // The expansion replaces the invocation; the macro's path is remembered so that the
        // expansion can name it once (`use path as _;`) and the user's import stays used.
        let path = mac.path.to_token_stream();
        if !self.macro_paths.iter().any(|p| p.to_string() == path.to_string()) {
            self.macro_paths.push(path);
        }
        Some(Expr::Verbatim(tokens))
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
                    let site = format!("var!({}, {})", a.cx, name.to_token_stream());
                    self.record(extra, kind, site_tokens, site);
                }
                expand::var(&a)
            }
        }
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
                let extra = segs.into_iter().map(|s| Seg { key: s.clone(), name: s, dynamic: false }).collect();
                return (extra, leaf, false);
            }
        }
        (Vec::new(), format!("{{{}}}", short(name)), true)
    }

    /// Handles one `scope!` invocation given its arguments and its whole tokens.
    pub fn handle_scope(&mut self, tokens: TokenStream, site_tokens: &TokenStream) -> TokenStream {
        let mut a = match args::parse_scope(tokens, site_tokens, &mut self.errors) {
            Err(e) => {
                self.errors.push(e);
                return expand::malformed_scope();
            }
            Ok(a) => a,
        };
        let parent_mode = self.frame().mode;
        let (segs, mode, dynamic) = self.scope_segments(&a, parent_mode);
        let mut all = self.frame().segs.clone();
        all.extend(segs);
        self.frames.push(Frame { segs: all, mode, cx: a.cx.clone() });
        let saved = self.loops;
        if dynamic {
            self.loops.dynamic_since_loop = true;
        }
        self.visit_block_mut(&mut a.body);
        self.loops = saved;
        self.frames.pop();
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
                        self.errors.push(syn::Error::new(
                            lit.span(),
                            "empty scope name: give the scope a name, or use \
                             `default_name = \"..\"` for an auto-numbered one",
                        ));
                    } else if let Some(segs) = name::segments(&value) {
                        let segs = segs.into_iter().map(|s| Seg { key: s.clone(), name: s, dynamic: false }).collect();
                        return (segs, mode, false);
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

    fn handle_call(&mut self, call: &syn::ExprCall) {
        let Some(first) = call.args.first() else {
            return;
        };
        if !self.is_cx(first) {
            return;
        }
        let site_tokens = call.to_token_stream();
        let kind = match &*call.func {
            Expr::Path(p) if p.qself.is_none() => {
                let segments: Vec<&Ident> = p.path.segments.iter().map(|s| &s.ident).collect();
                let callee = segments.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("::");
                let through_param = p.path.leading_colon.is_none()
                    && segments.len() > 1
                    && (segments[0] == "Self" || self.type_params.iter().any(|t| t == segments[0]));
                if through_param {
                    Kind::Opaque { callee }
                } else {
                    let colon = p.path.leading_colon;
                    let span = call.func.span();
                    let idents = segments.iter();
                    let manifest = quote::quote_spanned!(span=> #colon #(#idents::)* MANIFEST);
                    Kind::Call { manifest, callee }
                }
            }
            other => Kind::Opaque { callee: short(other) },
        };
        let site = match &kind {
            Kind::Call { callee, .. } | Kind::Opaque { callee } => format!("{callee}(cx, ..)"),
            Kind::Var { .. } => String::new(),
        };
        self.record(Vec::new(), kind, site_tokens, site);
    }

    fn handle_method_call(&mut self, call: &syn::ExprMethodCall) {
        if self.is_cx(&call.receiver) && call.method == symbol::REUSE_VARIABLES {
            if self.frames.len() == 1 && self.root == Root::Model {
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
            let last = self.frames.len().saturating_sub(1);
            if let Some(frame) = self.frames.get_mut(last) {
                frame.mode = frame.mode.inherit(Mode::Reuse);
            }
            return;
        }
        if call.args.first().is_some_and(|a| self.is_cx(a)) {
            let callee = format!("{}.{}", short(&call.receiver), call.method);
            let site = format!("{callee}(cx, ..)");
            self.record(Vec::new(), Kind::Opaque { callee }, call.to_token_stream(), site);
        }
    }

    fn enter_loop(&mut self, body: &syn::Block) -> LoopState {
        let saved = self.loops;
        self.loops =
            LoopState { in_loop: true, dynamic_since_loop: false, loop_reuses: mentions_reuse(body.to_token_stream()) };
        saved
    }
}

impl VisitMut for Walker {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Macro(m) => {
                if let Some(new) = self.handle_macro(&m.mac) {
                    *e = new;
                }
                return;
            }
            Expr::Closure(_) | Expr::Async(_) => return,
            Expr::If(i) => {
                self.visit_expr_mut(&mut i.cond);
                self.next_branch += 1;
                let site = self.next_branch;
                let saved = self.cond;
                self.cond = true;
                self.branch.push((site, 0));
                self.visit_block_mut(&mut i.then_branch);
                self.branch.pop();
                if let Some((_, other)) = &mut i.else_branch {
                    self.branch.push((site, 1));
                    self.visit_expr_mut(other);
                    self.branch.pop();
                }
                self.cond = saved;
                return;
            }
            Expr::Match(m) => {
                self.visit_expr_mut(&mut m.expr);
                self.next_branch += 1;
                let site = self.next_branch;
                let saved = self.cond;
                self.cond = true;
                for (k, arm) in m.arms.iter_mut().enumerate() {
                    self.branch.push((site, u32::try_from(k).unwrap_or(u32::MAX)));
                    if let Some((_, guard)) = &mut arm.guard {
                        self.visit_expr_mut(guard);
                    }
                    self.visit_expr_mut(&mut arm.body);
                    self.branch.pop();
                }
                self.cond = saved;
                return;
            }
            Expr::ForLoop(f) => {
                self.visit_expr_mut(&mut f.expr);
                let saved = self.enter_loop(&f.body);
                self.visit_block_mut(&mut f.body);
                self.loops = saved;
                return;
            }
            Expr::While(w) => {
                let saved = self.enter_loop(&w.body);
                self.visit_expr_mut(&mut w.cond);
                self.visit_block_mut(&mut w.body);
                self.loops = saved;
                return;
            }
            Expr::Loop(l) => {
                let saved = self.enter_loop(&l.body);
                self.visit_block_mut(&mut l.body);
                self.loops = saved;
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
                    proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                    proc_macro2::Delimiter::Brace => ("{ ", " }"),
                    proc_macro2::Delimiter::Bracket => ("[", "]"),
                    proc_macro2::Delimiter::None => ("", ""),
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
            other => other.to_string(),
        };
        let word = matches!(tt, TokenTree::Ident(_) | TokenTree::Literal(_));
        let brace = matches!(&tt, TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace);
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

/// Whether a token stream contains `.reuse_variables(`.
fn mentions_reuse(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == symbol::REUSE_VARIABLES,
        TokenTree::Group(g) => mentions_reuse(g.stream()),
        _ => false,
    })
}
