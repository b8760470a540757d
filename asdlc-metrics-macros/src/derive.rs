//! `#[derive(Metrics)]` and `#[derive(LabelValue)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Expr, ExprLit, Fields, Ident, Lit, LitStr, Meta, Token, Type,
};

use crate::naming::{self, MetricKind};

fn to_tokens(result: syn::Result<TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error)
}

/// The HELP text from `///` doc comments, lines joined with spaces.
fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// The kind a field's type implies, from the type's last path segment.
fn kind_of(ty: &Type) -> Option<(MetricKind, bool)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?.ident.to_string();
    Some(match last.as_str() {
        "Counter" | "IntCounter" => (MetricKind::Counter, false),
        "CounterVec" | "IntCounterVec" => (MetricKind::Counter, true),
        "Gauge" | "IntGauge" => (MetricKind::Gauge, false),
        "GaugeVec" | "IntGaugeVec" => (MetricKind::Gauge, true),
        "Histogram" => (MetricKind::Histogram, false),
        "HistogramVec" => (MetricKind::Histogram, true),
        _ => return None,
    })
}

#[derive(Default)]
struct FieldArgs {
    name: Option<LitStr>,
    labels: Option<(Span, Vec<Ident>)>,
    buckets: Option<(Span, Vec<syn::LitFloat>, Vec<f64>)>,
}

fn field_args(attrs: &[Attribute]) -> syn::Result<FieldArgs> {
    let mut args = FieldArgs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("metric")) {
        attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            let duplicate = || syn::Error::new(meta.path.span(), format!("duplicate argument `{key}`"));
            match key.as_str() {
                "name" => {
                    if args.name.is_some() {
                        return Err(duplicate());
                    }
                    args.name = Some(meta.value()?.parse()?);
                }
                "labels" => {
                    if args.labels.is_some() {
                        return Err(duplicate());
                    }
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let labels = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
                    let mut seen: Vec<Ident> = Vec::new();
                    for label in labels {
                        naming::check_label_name(&label)?;
                        if seen.contains(&label) {
                            return Err(syn::Error::new(label.span(), format!("duplicate label `{label}`")));
                        }
                        seen.push(label);
                    }
                    args.labels = Some((meta.path.span(), seen));
                }
                "buckets" => {
                    if args.buckets.is_some() {
                        return Err(duplicate());
                    }
                    let array: syn::ExprArray = meta.value()?.parse()?;
                    let parsed = crate::attr::parse_bucket_array(&array)?;
                    let lits = parsed.iter().map(|b| b.lit.clone()).collect();
                    let values = parsed.iter().map(|b| b.value).collect();
                    args.buckets = Some((meta.path.span(), lits, values));
                }
                _ => {
                    return Err(syn::Error::new(
                        meta.path.span(),
                        format!("unknown argument `{key}` in #[metric(..)]; expected one of: name, labels, buckets"),
                    ));
                }
            }
            Ok(())
        })?;
    }
    Ok(args)
}

fn container_prefix(attrs: &[Attribute]) -> syn::Result<String> {
    let mut prefix: Option<LitStr> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("metrics")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("prefix") {
                if prefix.is_some() {
                    return Err(syn::Error::new(
                        meta.path.span(),
                        "duplicate argument `prefix`",
                    ));
                }
                prefix = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(syn::Error::new(
                    meta.path.span(),
                    "unknown argument in #[metrics(..)]; expected `prefix = \"…\"`",
                ))
            }
        })?;
    }
    Ok(prefix.map_or_else(|| "asdlc".to_owned(), |p| p.value()))
}

/// `#[derive(Metrics)]`.
pub fn metrics(input: TokenStream) -> TokenStream {
    to_tokens(syn::parse2(input).and_then(|input| metrics_impl(&input)))
}

fn metrics_impl(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(Metrics)] does not support generic structs (its `global()` is one static instance)",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            name.span(),
            "#[derive(Metrics)] needs a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new(
            data.fields.span(),
            "#[derive(Metrics)] needs a struct with named fields",
        ));
    };
    let prefix = container_prefix(&input.attrs)?;

    let mut errors: Option<syn::Error> = None;
    let mut registered = Vec::new();
    let mut detached = Vec::new();
    for field in &fields.named {
        match field_opts(field, &prefix) {
            Ok(opts) => {
                let ident = &field.ident;
                let ty = &field.ty;
                registered.push(quote_spanned! {field.span()=>
                    #ident: registry.register(&<#ty as ::asdlc_metrics::Metric>::from_opts(#opts)?)?
                });
                detached.push(quote_spanned! {field.span()=>
                    #ident: ::asdlc_metrics::__private::build_static::<#ty>(#opts)
                });
            }
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    Ok(quote! {
        impl #name {
            /// Builds every metric of this struct and registers it in
            /// `registry` (get-or-register: metrics already registered with
            /// the same shape are shared).
            ///
            /// # Errors
            /// The first registration conflict (a name already registered
            /// with another type or other label names).
            pub fn register(registry: &::asdlc_metrics::Registry) -> ::core::result::Result<Self, ::asdlc_metrics::Error> {
                ::core::result::Result::Ok(Self { #(#registered,)* })
            }

            /// Builds every metric of this struct without registering it:
            /// it records, but nothing exports it.
            pub fn detached() -> Self {
                Self { #(#detached,)* }
            }

            /// The instance registered in the global registry, created on
            /// first use. A registration conflict is logged and yields
            /// detached metrics, never a panic.
            pub fn global() -> &'static Self {
                static GLOBAL: ::asdlc_metrics::__private::LazyLock<#name> =
                    ::asdlc_metrics::__private::LazyLock::new(|| {
                        ::asdlc_metrics::__private::register_global(#name::register, #name::detached)
                    });
                &GLOBAL
            }
        }
    })
}

/// The `Opts` expression for one field, after compile-time checks.
fn field_opts(field: &syn::Field, prefix: &str) -> syn::Result<TokenStream> {
    let ident = field.ident.as_ref().expect("named field");
    let args = field_args(&field.attrs)?;
    let Some(help) = doc_text(&field.attrs) else {
        return Err(syn::Error::new(
            ident.span(),
            format!(
                "metric field `{ident}` needs a doc comment: it becomes the metric's HELP text\nhint: add `/// What {ident} measures.` above the field"
            ),
        ));
    };
    let (name, name_span) = match &args.name {
        Some(lit) => (lit.value(), lit.span()),
        None => {
            let field_name = ident.to_string();
            let field_name = field_name
                .strip_prefix("r#")
                .unwrap_or(&field_name)
                .to_owned();
            let name = if prefix.is_empty() {
                field_name
            } else {
                format!("{prefix}_{field_name}")
            };
            (name, ident.span())
        }
    };
    let kind = kind_of(&field.ty);
    naming::check_derived_name(&name, kind.map(|(k, _)| k), name_span)?;
    if let Some((kind, is_vec)) = kind {
        if let (false, Some((span, _))) = (is_vec, &args.labels) {
            return Err(syn::Error::new(
                *span,
                "labels need a labelled type: use the `…Vec` form of this metric type",
            ));
        }
        if let (true, None) = (is_vec, &args.labels) {
            return Err(syn::Error::new(
                field.ty.span(),
                format!(
                    "`{ident}` is a labelled family: declare its labels with #[metric(labels(..))]"
                ),
            ));
        }
        if let (MetricKind::Counter | MetricKind::Gauge, Some((span, ..))) = (kind, &args.buckets) {
            return Err(syn::Error::new(*span, "buckets are only for histograms"));
        }
    }
    let labels = args.labels.as_ref().map(|(_, labels)| {
        let names = labels.iter().map(|l| {
            let l = l.to_string();
            l.strip_prefix("r#").unwrap_or(&l).to_owned()
        });
        quote!(.labels([#(#names),*]))
    });
    let buckets = args
        .buckets
        .as_ref()
        .map(|(_, lits, _)| quote!(.buckets([#(#lits),*])));
    Ok(quote!(::asdlc_metrics::Opts::new(#name, #help) #labels #buckets))
}

/// `#[derive(LabelValue)]`.
pub fn label_value(input: TokenStream) -> TokenStream {
    to_tokens(syn::parse2(input).and_then(|input| label_value_impl(&input)))
}

fn label_value_impl(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            name.span(),
            "#[derive(LabelValue)] needs an enum with unit variants",
        ));
    };
    let mut arms = Vec::new();
    let mut values: Vec<(String, Span)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new(
                variant.fields.span(),
                "#[derive(LabelValue)] variants cannot have fields: a label value must come from a bounded set",
            ));
        }
        let mut rename: Option<LitStr> = None;
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("label")) {
            attr.parse_nested_meta(|meta| {
                if !meta.path.is_ident("rename") {
                    return Err(syn::Error::new(
                        meta.path.span(),
                        "unknown argument in #[label(..)]; expected `rename = \"…\"`",
                    ));
                }
                if rename.is_some() {
                    return Err(syn::Error::new(
                        meta.path.span(),
                        "duplicate argument `rename`",
                    ));
                }
                let lit: LitStr = meta.value()?.parse()?;
                naming::check_label_value(&lit)?;
                rename = Some(lit);
                Ok(())
            })?;
        }
        let ident = &variant.ident;
        let (value, span) = match &rename {
            Some(lit) => (lit.value(), lit.span()),
            None => (
                asdlc_metrics_naming::to_snake_case(&ident.to_string()),
                ident.span(),
            ),
        };
        if let Some((_, first)) = values.iter().find(|(v, _)| *v == value) {
            let mut err = syn::Error::new(
                span,
                format!("label value `{value}` is used by two variants"),
            );
            err.combine(syn::Error::new(*first, "first used here"));
            return Err(err);
        }
        values.push((value.clone(), span));
        arms.push(quote!(Self::#ident => #value));
    }
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = if arms.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(#arms,)* })
    };
    let all = format_ident!("LABEL_VALUES");
    let strings = values.iter().map(|(v, _)| v);
    Ok(quote! {
        impl #impl_generics ::asdlc_metrics::LabelValue for #name #ty_generics #where_clause {
            fn label_value(&self) -> &str {
                #body
            }
        }

        impl #impl_generics #name #ty_generics #where_clause {
            /// Every label value of this enum, in declaration order (for
            /// pre-creating series so they export 0 before first use).
            pub const #all: &'static [&'static str] = &[#(#strings),*];
        }
    })
}
