//! The parsed model of every macro input, as types that can only hold what
//! the syntax allows: one variant per attribute, buckets only where a
//! histogram is made, names already stripped of `r#`.
//!
//! Building the model ([`crate::attr`]) checks syntax only; the rules
//! (names, labels, buckets) are checked on it in one pass by
//! [`crate::valid`], and [`crate::expand`] generates code from it.

use asdlc_metrics_naming::Kind;
use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::{Generics, Ident, LitFloat, LitStr, Type};

/// Which of the four function attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Timed,
    Counted,
    InFlight,
    RedisOp,
}

impl Which {
    /// The attribute named `name` (the last segment of its path).
    pub fn from_name(name: &str) -> Option<Which> {
        Some(match name {
            "timed" => Which::Timed,
            "counted" => Which::Counted,
            "in_flight" => Which::InFlight,
            "redis_op" => Which::RedisOp,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Which::Timed => "timed",
            Which::Counted => "counted",
            Which::InFlight => "in_flight",
            Which::RedisOp => "redis_op",
        }
    }
}

/// A name written as an identifier (a label name, a field), without `r#`,
/// with its span.
#[derive(Debug, Clone)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

impl Name {
    pub fn from_ident(ident: &Ident) -> Name {
        Name {
            text: ident.unraw().to_string(),
            span: ident.span(),
        }
    }
}

/// A bucket bound: its value and a float literal to emit (`1` becomes
/// `1.0`, so it types as `f64` in the generated array).
#[derive(Debug, Clone)]
pub struct Bound {
    pub value: f64,
    pub lit: LitFloat,
}

/// `buckets = [..]`, with the span of the brackets (where an empty list is
/// reported).
#[derive(Debug, Clone)]
pub struct Buckets {
    pub bounds: Vec<Bound>,
    pub span: Span,
}

/// A constant label `key = "value"` of a function attribute.
#[derive(Debug, Clone)]
pub struct Label {
    pub name: Name,
    pub value: LitStr,
}

/// Options every function attribute that owns a family takes.
#[derive(Debug, Default)]
pub struct FamilyArgs {
    pub name: Option<LitStr>,
    pub help: Option<LitStr>,
    pub labels: Vec<Label>,
    /// `objective = PATH` (`#[timed]` and `#[counted]` only): a `const`
    /// `Objective` the calls serve.
    pub objective: Option<syn::Path>,
}

/// `#[timed(..)]`: a family, and buckets for this function's series.
#[derive(Debug, Default)]
pub struct TimedArgs {
    pub family: FamilyArgs,
    pub buckets: Option<Buckets>,
}

/// One parsed function attribute.
#[derive(Debug)]
pub enum Attr {
    Timed(TimedArgs),
    Counted(FamilyArgs),
    InFlight(FamilyArgs),
    /// `#[redis_op]`: the operation label value, if given.
    RedisOp(Option<LitStr>),
}

impl Attr {
    pub fn which(&self) -> Which {
        match self {
            Attr::Timed(_) => Which::Timed,
            Attr::Counted(_) => Which::Counted,
            Attr::InFlight(_) => Which::InFlight,
            Attr::RedisOp(_) => Which::RedisOp,
        }
    }
}

/// What one call site records: every attribute of ours on the function.
#[derive(Debug, Default)]
pub struct Spec {
    pub timed: Option<TimedArgs>,
    pub counted: Option<FamilyArgs>,
    pub in_flight: Option<FamilyArgs>,
    /// `Some(None)`: `#[redis_op]` without an explicit operation.
    pub redis: Option<Option<LitStr>>,
    /// Paths of the sibling attributes taken off the function, as written.
    pub absorbed: Vec<Vec<proc_macro2::TokenTree>>,
}

impl Spec {
    /// Adds one attribute; `span` is where a second application of the same
    /// attribute is reported.
    pub fn add(&mut self, attr: Attr, span: Span) -> syn::Result<()> {
        let which = attr.which();
        let taken = match attr {
            Attr::Timed(args) => self.timed.replace(args).is_some(),
            Attr::Counted(args) => self.counted.replace(args).is_some(),
            Attr::InFlight(args) => self.in_flight.replace(args).is_some(),
            Attr::RedisOp(op) => self.redis.replace(op).is_some(),
        };
        if taken {
            return Err(syn::Error::new(
                span,
                format!("#[{}] is applied twice to this function", which.name()),
            ));
        }
        Ok(())
    }
}

/// `#[derive(Metrics)]` input: a non-generic struct with named fields
/// (generics are rejected by [`crate::valid`]).
pub struct MetricsStruct<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    /// `#[metrics(prefix = "…")]`.
    pub prefix: Option<LitStr>,
    pub fields: Vec<MetricField<'a>>,
}

impl MetricsStruct<'_> {
    /// The prefix of derived family names (`asdlc` unless given).
    pub fn prefix(&self) -> String {
        self.prefix
            .as_ref()
            .map_or_else(|| "asdlc".to_owned(), LitStr::value)
    }
}

/// One field of a `#[derive(Metrics)]` struct.
pub struct MetricField<'a> {
    pub ident: &'a Ident,
    pub name: Name,
    pub ty: &'a Type,
    /// The HELP text from the doc comment.
    pub help: Option<String>,
    /// `#[metric(name = "…")]`.
    pub family: Option<LitStr>,
    /// `#[metric(labels(..))]`: the span of `labels` and the names.
    pub labels: Option<(Span, Vec<Name>)>,
    /// `#[metric(buckets = [..])]`: the span of `buckets` and the bounds.
    pub buckets: Option<(Span, Buckets)>,
    /// `#[metric(max_series = N)]` (`Some(N)`) or `max_series = none`
    /// (`None`: no limit); absent: the registry's default.
    pub max_series: Option<Option<syn::LitInt>>,
}

/// The kind of metric a field's type declares, and whether it is a
/// labelled family (`…Vec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldKind {
    pub kind: Kind,
    pub labelled: bool,
}

/// The metric types `#[derive(Metrics)]` knows by name: this crate's and the
/// `prometheus` crate's.
pub const FIELD_TYPES: &[(&str, Kind, bool)] = &[
    ("Counter", Kind::Counter, false),
    ("IntCounter", Kind::Counter, false),
    ("CounterVec", Kind::Counter, true),
    ("IntCounterVec", Kind::Counter, true),
    ("Gauge", Kind::Gauge, false),
    ("IntGauge", Kind::Gauge, false),
    ("GaugeVec", Kind::Gauge, true),
    ("IntGaugeVec", Kind::Gauge, true),
    ("Histogram", Kind::Histogram, false),
    ("HistogramVec", Kind::Histogram, true),
];

impl MetricField<'_> {
    /// The kind the field's type names (by its last path segment), or
    /// `None` for a type the derive does not know (an alias, a wrapper).
    pub fn kind(&self) -> Option<FieldKind> {
        let Type::Path(path) = self.ty else {
            return None;
        };
        let last = path.path.segments.last()?;
        FIELD_TYPES
            .iter()
            .find(|(name, ..)| last.ident == name)
            .map(|&(_, kind, labelled)| FieldKind { kind, labelled })
    }

    /// The family name: `#[metric(name)]`, else `<prefix>_<field>`; with the
    /// span errors about it point at.
    pub fn family_name(&self, prefix: &str) -> (String, Span) {
        match &self.family {
            Some(lit) => (lit.value(), lit.span()),
            None if prefix.is_empty() => (self.name.text.clone(), self.name.span),
            None => (format!("{prefix}_{}", self.name.text), self.name.span),
        }
    }
}

/// `#[derive(LabelValue)]` input: an enum.
pub struct LabelEnum<'a> {
    pub variants: Vec<LabelVariant<'a>>,
}

/// One variant of a `#[derive(LabelValue)]` enum. Its fields, if any, play
/// no part: the value comes from the variant, so it stays bounded.
pub struct LabelVariant<'a> {
    pub ident: &'a Ident,
    /// `#[label(rename = "…")]`.
    pub rename: Option<LitStr>,
    /// `#[label(expected)]`: as an error, an expected one (no reason,
    /// recorded as `result="ok"`).
    pub expected: bool,
}

impl LabelVariant<'_> {
    /// The label value and the span errors about it point at.
    pub fn value(&self) -> (String, Span) {
        match &self.rename {
            Some(lit) => (lit.value(), lit.span()),
            None => (
                asdlc_metrics_naming::to_snake_case(&self.ident.unraw().to_string()),
                self.ident.span(),
            ),
        }
    }
}
