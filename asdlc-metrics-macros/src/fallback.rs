//! What the macros emit next to their errors, so that the user sees exactly
//! the error, not one more "not found" at every use of what failed to
//! expand: the function as written (without our attributes), or for a
//! derive an impl with the same items whose bodies are never run (the crate
//! does not compile anyway).

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens as _, quote};
use syn::DeriveInput;

use crate::ast::Which;
use crate::expand::derived_impl;
use crate::item::Function;

/// `function` unchanged but for our attributes, after `errors`. The paths
/// of the sibling attributes taken off it (`absorbed`) are `use`d in its
/// body, as in a successful expansion, so the user's import of them is not
/// reported unused on top of the error.
pub fn function(
    errors: &syn::Error,
    function: &Function,
    absorbed: &[Vec<TokenTree>],
) -> TokenStream {
    let mut out = errors.to_compile_error();
    if absorbed.is_empty() {
        out.extend(function.into_token_stream());
        return out;
    }
    // As in `expand::attribute`: no lint attribute is needed.
    let mut body = quote!(#(use #(#absorbed)* as _;)*);
    body.extend(function.braces.stream());
    let mut braces = Group::new(Delimiter::Brace, body);
    braces.set_span(function.braces.span());
    out.extend(function.attrs.iter().cloned());
    out.extend(function.head.iter().cloned());
    out.extend([TokenTree::Group(braces)]);
    out
}

/// The error for attribute `which` on an item that is not a function with a
/// body, then the item unchanged.
pub fn not_a_function(which: Which, item: TokenStream) -> TokenStream {
    let bodiless = item.clone().into_iter().any(|t| t.to_string() == "fn");
    let message = if bodiless {
        format!(
            "#[{}] needs a function with a body to instrument",
            which.name()
        )
    } else {
        format!(
            "#[{}] can only be applied to functions and methods",
            which.name()
        )
    };
    let span = item
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span());
    let mut out = syn::Error::new(span, message).to_compile_error();
    out.extend(item);
    out
}

/// `errors`, and the items of `#[derive(Metrics)]` on `input`.
pub fn metrics(input: &DeriveInput, errors: &syn::Error) -> TokenStream {
    let mut out = errors.to_compile_error();
    out.extend(derived_impl(
        input,
        None,
        quote! {
            #[allow(dead_code, missing_docs, unused_variables, clippy::all)]
            pub const NAMES: [&'static str; 0] = [];
            #[allow(dead_code, missing_docs, unused_variables, clippy::all)]
            pub fn register(registry: &::asdlc_metrics::Registry) -> ::core::result::Result<Self, ::asdlc_metrics::Error> {
                ::core::unreachable!()
            }
            #[allow(dead_code, missing_docs, clippy::all)]
            pub fn detached() -> Self {
                ::core::unreachable!()
            }
            #[allow(dead_code, missing_docs, clippy::all)]
            pub fn global() -> &'static Self {
                ::core::unreachable!()
            }
        },
    ));
    out
}

/// `errors`, and the items of `#[derive(LabelValue)]` on `input`.
pub fn label_value(input: &DeriveInput, errors: &syn::Error) -> TokenStream {
    let mut out = errors.to_compile_error();
    out.extend(derived_impl(
        input,
        Some(quote!(::asdlc_metrics::LabelValue)),
        quote! {
            fn label_value(&self) -> &str {
                ::core::unreachable!()
            }
        },
    ));
    out.extend(derived_impl(
        input,
        None,
        quote! {
            #[allow(dead_code, missing_docs)]
            pub const LABEL_VALUES: &'static [&'static str] = &[];
        },
    ));
    out
}
