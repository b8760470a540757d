//! `#[derive(Metrics)]`: `register`, `detached`, `global` and `NAMES`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use crate::ast::MetricField;
use crate::{attr, valid};

/// The impl of `#[derive(Metrics)]` for `input`, or every error in it.
pub fn metrics(input: &DeriveInput) -> syn::Result<TokenStream> {
    let model = attr::metrics_struct(input)?;
    valid::metrics_struct(&model)?;
    let name = model.ident;
    let prefix = model.prefix();
    let mut registered = Vec::new();
    let mut detached = Vec::new();
    let mut names = Vec::new();
    for field in &model.fields {
        let ident = field.ident;
        let ty = field.ty;
        let opts = opts(field, &prefix);
        registered.push(quote_spanned! {ty.span()=>
            #ident: registry.register(&<#ty as ::asdlc_metrics::Metric>::from_opts(#opts)?)?
        });
        detached.push(quote_spanned! {ty.span()=>
            #ident: ::asdlc_metrics::__private::build_static::<#ty>(#opts)
        });
        names.push(field.family_name(&prefix).0);
    }
    let count = names.len();
    let items = quote! {
            /// The family names of this struct's metrics, in field order.
            pub const NAMES: [&'static str; #count] = [#(#names),*];

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
    };
    Ok(super::derived_impl(input, None, items))
}

/// The `Opts` expression of one (checked) field.
fn opts(field: &MetricField<'_>, prefix: &str) -> TokenStream {
    let (name, _) = field.family_name(prefix);
    let help = field.help.as_deref().unwrap_or_default();
    let labels = field.labels.as_ref().map(|(_, labels)| {
        let names = labels.iter().map(|l| &l.text);
        quote!(.labels([#(#names),*]))
    });
    let buckets = field.buckets.as_ref().map(|(_, buckets)| {
        let lits = buckets.bounds.iter().map(|b| &b.lit);
        quote!(.buckets([#(#lits),*]))
    });
    let max_series = field.max_series.as_ref().map(|limit| match limit {
        Some(n) => quote!(.max_series(::core::option::Option::Some(#n))),
        None => quote!(.max_series(::core::option::Option::None)),
    });
    quote!(::asdlc_metrics::Opts::new(#name, #help) #labels #buckets #max_series)
}
