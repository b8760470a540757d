//! The `ErrorReason` impl `#[derive(LabelValue)]` adds to an enum: as an
//! error type, each variant's label value is its reason, and variants
//! marked `#[label(expected)]` have none (they count as `result="ok"`).
//! Implemented for every derived enum, so that any of them returned as an
//! error is counted by reason, chosen at compile time by the
//! classification of the return value.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::LabelEnum;

/// `impl ErrorReason for <input>`; `REASONS` is the derive's
/// `LABEL_VALUES`, indexed by variant.
pub fn error_reason(input: &DeriveInput, model: &LabelEnum<'_>) -> TokenStream {
    let arms = model.variants.iter().enumerate().map(|(index, v)| {
        let ident = v.ident;
        let reason = if v.expected {
            quote!(::core::option::Option::None)
        } else {
            quote!(::core::option::Option::Some(#index))
        };
        // `{ .. }` matches unit, tuple and struct variants alike: the
        // reason never depends on field data.
        quote!(Self::#ident { .. } => #reason,)
    });
    let body = if model.variants.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(#arms)* })
    };
    super::derived_impl(
        input,
        Some(quote!(::asdlc_metrics::ErrorReason)),
        quote! {
            const REASONS: &'static [&'static str] = Self::LABEL_VALUES;
            fn reason(&self) -> ::core::option::Option<usize> {
                #body
            }
        },
    )
}
