//! Every rule on the parsed model, checked in one pass after parsing:
//! metric and label names, label values, buckets, and which arguments make
//! sense together. The Prometheus rules themselves live once, in
//! `asdlc-metrics-naming` (the runtime applies the same ones); this module
//! reports them as compile errors spanned at the offending token, every one
//! it finds.

use asdlc_metrics_naming::{FUNCTION_LABELS, Kind, NameError};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

use crate::ast::{
    Buckets, FamilyArgs, FieldKind, LabelEnum, MetricField, MetricsStruct, Name, Spec, Which,
};
use crate::attr::Errors;

/// A compile error at `span` carrying the rule's message and hint.
fn error(span: Span, err: &NameError) -> syn::Error {
    let mut message = err.message.clone();
    if let Some(hint) = &err.hint {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    syn::Error::new(span, message)
}

fn label_name(name: &Name) -> syn::Result<()> {
    asdlc_metrics_naming::check_label_name(&name.text).map_err(|e| error(name.span, &e))
}

fn label_value(lit: &LitStr) -> syn::Result<()> {
    asdlc_metrics_naming::check_label_value(&lit.value()).map_err(|e| error(lit.span(), &e))
}

fn buckets(buckets: &Buckets) -> syn::Result<()> {
    let values: Vec<f64> = buckets.bounds.iter().map(|b| b.value).collect();
    asdlc_metrics_naming::check_buckets(&values).map_err(|(index, err)| {
        let span = buckets
            .bounds
            .get(index)
            .map_or(buckets.span, |b| b.lit.span());
        error(span, &err)
    })
}

/// Checks every attribute of one call site.
pub fn spec(spec: &Spec, errors: &mut Errors) {
    if let Some(timed) = &spec.timed {
        let rule = asdlc_metrics_naming::check_duration_name;
        family(&timed.family, Which::Timed, rule, errors);
        if let Some(b) = &timed.buckets {
            errors.check(buckets(b));
        }
    }
    if let Some(counted) = &spec.counted {
        let rule = |name: &str| asdlc_metrics_naming::check_metric_name(name, Kind::Counter);
        family(counted, Which::Counted, rule, errors);
    }
    if let Some(in_flight) = &spec.in_flight {
        let rule = |name: &str| asdlc_metrics_naming::check_metric_name(name, Kind::Gauge);
        family(in_flight, Which::InFlight, rule, errors);
    }
    if let Some(Some(operation)) = &spec.redis {
        errors.check(label_value(operation));
    }
}

/// The options of function attribute `which`, whose family name follows
/// `rule`.
fn family(
    args: &FamilyArgs,
    which: Which,
    rule: impl Fn(&str) -> Result<(), NameError>,
    errors: &mut Errors,
) {
    if let Some(lit) = &args.name {
        errors.check(rule(&lit.value()).map_err(|e| error(lit.span(), &e)));
    }
    if let Some(help) = &args.help {
        if help.value().trim().is_empty() {
            errors.push(syn::Error::new(help.span(), "help text must not be empty"));
        } else if args.name.is_none() {
            errors.push(syn::Error::new(
                help.span(),
                "`help` sets the HELP text of a custom family; the default family already has one (add `name = \"…\"` or drop `help`)",
            ));
        }
    }
    if let (Some(first), None) = (args.labels.first(), &args.name) {
        if which == Which::InFlight {
            // The default `asdlc_active_tasks` is the standard set's
            // unlabelled gauge: a labelled series of it would conflict.
            errors.push(syn::Error::new(
                first.name.span,
                "`labels` on #[in_flight] need a family of their own: the default `asdlc_active_tasks` is the standard set's unlabelled gauge\nhint: add `name = \"asdlc_…\"` for a gauge with these labels, or drop `labels`",
            ));
        }
    }
    for (i, label) in args.labels.iter().enumerate() {
        if !errors.check(label_name(&label.name)) {
            continue;
        }
        if which != Which::InFlight && FUNCTION_LABELS.contains(&label.name.text.as_str()) {
            errors.push(syn::Error::new(
                label.name.span,
                format!(
                    "label `{}` is set by #[{}] itself",
                    label.name.text,
                    which.name()
                ),
            ));
        } else if args.labels[..i]
            .iter()
            .any(|l| l.name.text == label.name.text)
        {
            errors.push(syn::Error::new(
                label.name.span,
                format!("duplicate label `{}`", label.name.text),
            ));
        }
        errors.check(label_value(&label.value));
    }
}

/// Checks `const fn` (which cannot record metrics) for attribute `which`.
pub fn constness(constness: Option<proc_macro2::Span>, which: Which, errors: &mut Errors) {
    if let Some(constness) = constness {
        errors.push(syn::Error::new(
            constness,
            format!(
                "#[{}] cannot instrument a `const fn`: recording metrics is not possible in const evaluation\nhint: remove `const`, or move the instrumented work into a non-const function",
                which.name()
            ),
        ));
    }
}

/// Checks a `#[derive(Metrics)]` struct.
pub fn metrics_struct(input: &MetricsStruct<'_>) -> syn::Result<()> {
    let mut errors = Errors::default();
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new(
            input.generics.span(),
            "#[derive(Metrics)] does not support generic structs (its `global()` is one static instance)",
        ));
    }
    let prefix = input.prefix();
    for field in &input.fields {
        metric_field(field, &prefix, &mut errors);
    }
    errors.finish()
}

fn metric_field(field: &MetricField<'_>, prefix: &str, errors: &mut Errors) {
    let ident = &field.name.text;
    if field.help.is_none() {
        errors.push(syn::Error::new(
            field.name.span,
            format!(
                "metric field `{ident}` needs a doc comment: it becomes the metric's HELP text\nhint: add `/// What {ident} measures.` above the field"
            ),
        ));
        return;
    }
    let Some(FieldKind { kind, labelled }) = field.kind() else {
        // Without the kind, neither the name rules nor the registration
        // can be checked here; guessing would move the error to run time.
        let known: Vec<&str> = crate::ast::FIELD_TYPES.iter().map(|(n, ..)| *n).collect();
        errors.push(syn::Error::new(
            field.ty.span(),
            format!(
                "#[derive(Metrics)] cannot tell which kind of metric `{ident}` is from its type\nhint: write the metric type by name ({}), not an alias or a wrapper",
                known.join(", ")
            ),
        ));
        return;
    };
    let (name, span) = field.family_name(prefix);
    if let Err(e) = asdlc_metrics_naming::check_metric_name(&name, kind) {
        errors.push(error(span, &e));
        return;
    }
    match (&field.labels, labelled) {
        (Some((span, _)), false) => errors.push(syn::Error::new(
            *span,
            "labels need a labelled type: use the `…Vec` form of this metric type",
        )),
        (None, true) => errors.push(syn::Error::new(
            field.ty.span(),
            format!(
                "`{ident}` is a labelled family: declare its labels with #[metric(labels(..))]"
            ),
        )),
        (Some((_, names)), true) => {
            for (i, label) in names.iter().enumerate() {
                if errors.check(label_name(label))
                    && names[..i].iter().any(|l| l.text == label.text)
                {
                    errors.push(syn::Error::new(
                        label.span,
                        format!("duplicate label `{}`", label.text),
                    ));
                }
            }
        }
        (None, false) => {}
    }
    if let Some((span, b)) = &field.buckets {
        if kind == Kind::Histogram {
            errors.check(buckets(b));
        } else {
            errors.push(syn::Error::new(*span, "buckets are only for histograms"));
        }
    }
}

/// Checks a `#[derive(LabelValue)]` enum: non-empty and distinct values
/// (fields are fine: the value comes from the variant).
pub fn label_enum(input: &LabelEnum<'_>) -> syn::Result<()> {
    let mut errors = Errors::default();
    let mut values: Vec<(String, &Ident)> = Vec::new();
    for variant in &input.variants {
        if let Some(rename) = &variant.rename {
            if !errors.check(label_value(rename)) {
                continue;
            }
        }
        let (value, span) = variant.value();
        if let Some((_, first)) = values.iter().find(|(v, _)| *v == value) {
            // One error, at the second use; the message names the first.
            errors.push(syn::Error::new(
                span,
                format!("label value `{value}` is already the value of variant `{first}`"),
            ));
        }
        values.push((value, variant.ident));
    }
    errors.finish()
}
