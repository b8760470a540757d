//! `#[derive(LabelValue)]`: `LabelValue::label_value`, `LABEL_VALUES` and
//! the `ErrorReason` impl ([`super::reason`]).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::{attr, valid};

/// The impls of `#[derive(LabelValue)]` for `input`, or every error in it.
pub fn label_value(input: &DeriveInput) -> syn::Result<TokenStream> {
    let model = attr::label_enum(input)?;
    valid::label_enum(&model)?;
    let values: Vec<String> = model.variants.iter().map(|v| v.value().0).collect();
    let idents = model.variants.iter().map(|v| v.ident);
    let body = if values.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(Self::#idents { .. } => #values,)* })
    };
    let mut out = super::derived_impl(
        input,
        Some(quote!(::asdlc_metrics::LabelValue)),
        quote! {
            fn label_value(&self) -> &str {
                #body
            }
        },
    );
    out.extend(super::derived_impl(
        input,
        None,
        quote! {
            /// Every label value of this enum, in declaration order (for
            /// pre-creating series so they export 0 before first use).
            pub const LABEL_VALUES: &'static [&'static str] = &[#(#values),*];
        },
    ));
    out.extend(super::reason::error_reason(input, &model));
    Ok(out)
}
