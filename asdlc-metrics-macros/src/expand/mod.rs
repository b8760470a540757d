//! Code generation from the checked model: one file per generated form of
//! an instrumented function, and one per derive.
//!
//! The first of `#[timed]`, `#[counted]`, `#[in_flight]` and `#[redis_op]`
//! to expand takes the others off the function and generates a single call
//! site for all of them: one `static` describing what to record, one drop
//! guard, one outcome classification. The user's body is moved unchanged
//! into a closure or `async move` block, so `return` and `?` keep their
//! meaning and errors in it keep pointing at the user's code.

mod async_fn;
mod async_trait;
mod impl_future;
mod label_value;
mod metrics;
mod reason;
mod site;
mod sync;
mod types;

#[cfg(test)]
mod tests;

pub use label_value::label_value;
pub use metrics::metrics;

use proc_macro2::{Group, TokenStream};
use quote::quote;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{AttrStyle, Attribute, ReturnType, Type};

use crate::ast::{Spec, Which};
use crate::attr::{self, Errors};
use crate::fallback;
use crate::item::Function;
use crate::valid;

/// `impl<..> Trait for Type<..> where .. { items }` (inherent without a
/// trait) for a derive's `input`, marked `#[automatically_derived]`.
pub fn derived_impl(
    input: &syn::DeriveInput,
    trait_path: Option<TokenStream>,
    items: TokenStream,
) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let trait_for = trait_path.map(|path| quote!(#path for));
    quote! {
        #[automatically_derived]
        impl #impl_generics #trait_for #name #ty_generics #where_clause {
            #items
        }
    }
}

/// The body of an annotated function and what the forms dispatch on.
struct Body<'a> {
    ret: Option<&'a Type>,
    tokens: &'a TokenStream,
    braces: &'a Group,
    is_async: bool,
}

/// Expands attribute `which` with arguments `args` on `item`. On error,
/// [`fallback::function`] emits the function without our attributes.
pub fn attribute(which: Which, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function: Function = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => return fallback::not_a_function(which, item),
    };
    let mut errors = Errors::default();
    let mut spec = Spec::default();
    errors.check(
        attr::function_attr(which, args)
            .and_then(|attr| spec.add(attr, proc_macro2::Span::call_site())),
    );
    let mut kept = Vec::with_capacity(function.attrs.len());
    for attribute in std::mem::take(&mut function.attrs) {
        let Some(other) = sibling(&attribute) else {
            kept.push(attribute);
            continue;
        };
        let added = attr::arg_tokens(&attribute, other.name())
            .and_then(|tokens| attr::function_attr(other, tokens))
            .and_then(|attr| spec.add(attr, attribute.path().span()));
        errors.check(added);
        // Taken off the function (it would expand into a second wrapper);
        // its path is `use`d in the body instead, so the user's
        // `use asdlc_metrics::counted` does not go unused.
        spec.absorbed.push(attribute.path().clone());
    }
    function.attrs = kept;
    valid::spec(&spec, &mut errors);
    valid::constness(&function.sig, which, &mut errors);
    match errors.finish() {
        Ok(()) => generate(function, &spec),
        Err(errors) => fallback::function(&errors, &function),
    }
}

/// If `attribute` is one of ours (`#[timed]`, `#[asdlc_metrics::timed]`, …).
fn sibling(attribute: &Attribute) -> Option<Which> {
    if attribute.style != AttrStyle::Outer {
        return None;
    }
    let segments: Vec<String> = attribute
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let last = match segments.as_slice() {
        [only] => only,
        [krate, last] if krate == "asdlc_metrics" || krate == "asdlc_metrics_macros" => last,
        _ => return None,
    };
    Which::from_name(last)
}

fn generate(function: Function, spec: &Spec) -> TokenStream {
    let Function {
        attrs: outer,
        vis,
        sig,
        inner_attrs: inner,
        body,
        braces,
    } = function;
    let site = site::site(spec, &sig.ident.unraw().to_string());
    let body = Body {
        ret: match &sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some(&**ty),
        },
        tokens: &body,
        braces: &braces,
        is_async: sig.asyncness.is_some(),
    };
    let body = async_fn::expand(&body)
        .or_else(|| async_trait::expand(&body))
        .or_else(|| impl_future::expand(&body))
        .unwrap_or_else(|| sync::expand(&body));
    let absorbed = &spec.absorbed;
    quote! {
        #(#outer)*
        #vis #sig {
            #inner
            #[allow(unused_imports)]
            use ::asdlc_metrics::__private::{self as __asdlc, Classify as _};
            #(#[allow(unused_imports)] use #absorbed as _;)*
            #site
            #body
        }
    }
}
