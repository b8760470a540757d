//! Parsing of the attribute arguments, kept apart from expansion.
//!
//! Every attribute takes a comma-separated list of `key = value` and
//! `key(...)` items (and `#[redis_op]` one leading string). Unknown and
//! repeated keys are errors spanned at the key; values are checked by
//! [`crate::naming`] with spans at the literal.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprArray, ExprLit, ExprUnary, Ident, Lit, LitFloat, LitStr, Token, UnOp};

use crate::naming;

/// Which attribute is being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Macro {
    Timed,
    Counted,
    InFlight,
    RedisOp,
}

impl Macro {
    pub fn from_name(name: &str) -> Option<Macro> {
        Some(match name {
            "timed" => Macro::Timed,
            "counted" => Macro::Counted,
            "in_flight" => Macro::InFlight,
            "redis_op" => Macro::RedisOp,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Macro::Timed => "timed",
            Macro::Counted => "counted",
            Macro::InFlight => "in_flight",
            Macro::RedisOp => "redis_op",
        }
    }

    fn allowed_keys(self) -> &'static [&'static str] {
        match self {
            Macro::Timed => &["name", "help", "buckets", "labels"],
            Macro::Counted | Macro::InFlight => &["name", "help", "labels"],
            Macro::RedisOp => &["operation"],
        }
    }
}

/// A bucket bound with the span of its literal.
#[derive(Debug, Clone)]
pub struct Bound {
    pub value: f64,
    pub lit: LitFloat,
}

/// Parsed options of `#[timed]`, `#[counted]` or `#[in_flight]`.
#[derive(Debug, Default)]
pub struct MetricArgs {
    pub name: Option<LitStr>,
    pub help: Option<LitStr>,
    pub buckets: Option<Vec<Bound>>,
    pub labels: Vec<(Ident, LitStr)>,
}

/// Parsed options of one attribute.
#[derive(Debug)]
pub enum Args {
    Metric(Macro, MetricArgs),
    /// `#[redis_op]`: the operation label value, if given.
    Redis(Option<LitStr>),
}

/// Parses the arguments of attribute `which`.
pub fn parse(which: Macro, tokens: TokenStream) -> syn::Result<Args> {
    let parser = move |input: ParseStream| parse_args(which, input);
    parser.parse2(tokens)
}

fn parse_args(which: Macro, input: ParseStream) -> syn::Result<Args> {
    let mut seen: Vec<Ident> = Vec::new();
    let mut metric = MetricArgs::default();
    let mut operation: Option<LitStr> = None;

    if which == Macro::RedisOp && input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        naming::check_label_value(&lit)?;
        operation = Some(lit);
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }

    while !input.is_empty() {
        let key: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected an argument of #[{}]: {}",
                    which.name(),
                    which.allowed_keys().join(", ")
                ),
            )
        })?;
        let key_str = key.to_string();
        if !which.allowed_keys().contains(&key_str.as_str()) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown argument `{key_str}` for #[{}]; expected one of: {}",
                    which.name(),
                    which.allowed_keys().join(", ")
                ),
            ));
        }
        if seen.contains(&key) || (key_str == "operation" && operation.is_some()) {
            return Err(syn::Error::new(
                key.span(),
                format!("duplicate argument `{key_str}`"),
            ));
        }
        seen.push(key.clone());
        match key_str.as_str() {
            "labels" => {
                let content;
                syn::parenthesized!(content in input);
                metric.labels = parse_labels(which, &content)?;
            }
            _ => {
                input.parse::<Token![=]>()?;
                match key_str.as_str() {
                    "name" => {
                        let lit: LitStr = input.parse()?;
                        naming::check_metric_name(&lit, which)?;
                        metric.name = Some(lit);
                    }
                    "help" => {
                        let lit: LitStr = input.parse()?;
                        if lit.value().trim().is_empty() {
                            return Err(syn::Error::new(lit.span(), "help text must not be empty"));
                        }
                        metric.help = Some(lit);
                    }
                    "buckets" => {
                        let array: ExprArray = input.parse()?;
                        metric.buckets = Some(parse_bucket_array(&array)?);
                    }
                    "operation" => {
                        let lit: LitStr = input.parse()?;
                        naming::check_label_value(&lit)?;
                        operation = Some(lit);
                    }
                    _ => unreachable!("checked against allowed_keys"),
                }
            }
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }

    if which == Macro::RedisOp {
        return Ok(Args::Redis(operation));
    }
    if let (Some(help), None) = (&metric.help, &metric.name) {
        return Err(syn::Error::new(
            help.span(),
            "`help` sets the HELP text of a custom family; the default family already has one (add `name = \"…\"` or drop `help`)",
        ));
    }
    Ok(Args::Metric(which, metric))
}

fn parse_labels(which: Macro, input: ParseStream) -> syn::Result<Vec<(Ident, LitStr)>> {
    let mut labels: Vec<(Ident, LitStr)> = Vec::new();
    let pairs = Punctuated::<LabelPair, Token![,]>::parse_terminated(input)?;
    for LabelPair { key, value } in pairs {
        naming::check_label_name(&key)?;
        if which != Macro::InFlight
            && ["function", "module", "result"].contains(&key.to_string().as_str())
        {
            return Err(syn::Error::new(
                key.span(),
                format!("label `{key}` is set by #[{}] itself", which.name()),
            ));
        }
        if labels.iter().any(|(k, _)| *k == key) {
            return Err(syn::Error::new(
                key.span(),
                format!("duplicate label `{key}`"),
            ));
        }
        naming::check_label_value(&value)?;
        labels.push((key, value));
    }
    Ok(labels)
}

struct LabelPair {
    key: Ident,
    value: LitStr,
}

impl syn::parse::Parse for LabelPair {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // Keywords are fine label names (`type`, `match`).
        let key = Ident::parse_any(input)?;
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(LabelPair { key, value })
    }
}

/// Parses and checks `[b1, b2, ..]` bucket bounds.
pub fn parse_bucket_array(array: &ExprArray) -> syn::Result<Vec<Bound>> {
    let mut bounds = Vec::with_capacity(array.elems.len());
    for elem in &array.elems {
        bounds.push(bound(elem)?);
    }
    let values: Vec<f64> = bounds.iter().map(|b| b.value).collect();
    if let Err((index, err)) = asdlc_metrics_naming::check_buckets(&values) {
        let span = array
            .elems
            .iter()
            .nth(index)
            .map_or(array.bracket_token.span.join(), Spanned::span);
        return Err(naming::error(span, &err));
    }
    Ok(bounds)
}

/// A numeric literal (optionally negated) as an `f64` with a float literal
/// to emit (`1` becomes `1.0`, so it types as `f64` in the generated array).
fn bound(expr: &Expr) -> syn::Result<Bound> {
    let (negative, lit) = match expr {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            other => return Err(not_a_number(other.span())),
        },
        other => return Err(not_a_number(other.span())),
    };
    let (digits, span) = match lit {
        Lit::Float(f) => (f.base10_digits().to_owned(), f.span()),
        Lit::Int(i) => (i.base10_digits().to_owned(), i.span()),
        other => return Err(not_a_number(other.span())),
    };
    let value: f64 = digits.parse().map_err(|_| not_a_number(span))?;
    let value = if negative { -value } else { value };
    let text = if digits.contains(['.', 'e', 'E']) {
        digits
    } else {
        format!("{digits}.0")
    };
    let text = if negative { format!("-{text}") } else { text };
    Ok(Bound {
        value,
        lit: LitFloat::new(&text, span),
    })
}

fn not_a_number(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "bucket bounds must be number literals, e.g. `buckets = [0.01, 0.1, 1.0]`",
    )
}
