//! Prometheus naming rules at compile time: the shared rules of
//! `asdlc-metrics-naming`, reported as errors spanned at the offending
//! literal with a hint.

use proc_macro2::Span;
use syn::{Ident, LitStr};

pub use asdlc_metrics_naming::Kind as MetricKind;
use asdlc_metrics_naming::NameError;

use crate::attr::Macro;

/// A compile error at `span` carrying the rule's message and hint.
pub fn error(span: Span, err: &NameError) -> syn::Error {
    let mut message = err.message.clone();
    if let Some(hint) = &err.hint {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    syn::Error::new(span, message)
}

/// Checks a custom family name given to attribute `which`.
pub fn check_metric_name(lit: &LitStr, which: Macro) -> syn::Result<()> {
    let name = lit.value();
    let kind = match which {
        Macro::Timed | Macro::RedisOp => MetricKind::Histogram,
        Macro::Counted => MetricKind::Counter,
        Macro::InFlight => MetricKind::Gauge,
    };
    asdlc_metrics_naming::check_metric_name(&name, kind).map_err(|e| error(lit.span(), &e))?;
    if which == Macro::Timed && !name.ends_with("_seconds") {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "#[timed] records seconds, so its family name must end in `_seconds`\nhint: rename it to `{name}_seconds`"
            ),
        ));
    }
    Ok(())
}

/// Checks a metric name given to `#[derive(Metrics)]` for a field of kind
/// `kind` (when the field type tells it).
pub fn check_derived_name(name: &str, kind: Option<MetricKind>, span: Span) -> syn::Result<()> {
    // Without a known kind, check only what holds for every kind (the
    // run-time check at registration applies the rest).
    let result = match kind {
        Some(kind) => asdlc_metrics_naming::check_metric_name(name, kind),
        None => asdlc_metrics_naming::check_metric_name(name, MetricKind::Counter)
            .or_else(|_| asdlc_metrics_naming::check_metric_name(name, MetricKind::Gauge)),
    };
    result.map_err(|e| error(span, &e))
}

/// Checks a label name written as an identifier.
pub fn check_label_name(ident: &Ident) -> syn::Result<()> {
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    asdlc_metrics_naming::check_label_name(name).map_err(|e| error(ident.span(), &e))
}

/// A label value must not be empty: Prometheus treats an empty value as an
/// absent label.
pub fn check_label_value(lit: &LitStr) -> syn::Result<()> {
    if lit.value().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "label value must not be empty (Prometheus treats an empty label value as no label)",
        ));
    }
    Ok(())
}
