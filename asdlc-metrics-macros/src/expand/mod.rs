//! Code generation from the checked model: one file per generated form of
//! an instrumented function, and one per derive.
//!
//! The first of `#[timed]`, `#[counted]`, `#[in_flight]` and `#[redis_op]`
//! to expand takes the others off the function and generates a single call
//! site for all of them: one `static` describing what to record, one drop
//! guard, one outcome classification. The user's body goes, its tokens
//! unchanged but for `return` becoming `break`, into a labelled block; or,
//! where it may leave the function in ways the tokens do not show (`?`, a
//! macro call), into a closure or `async move` block. Either way `return`
//! and `?` keep their meaning and errors in it point at the user's code.

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

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::quote;
use syn::Type;
use syn::ext::IdentExt as _;

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
    /// The return type as written (none for `()` by omission).
    ret_tokens: &'a [TokenTree],
    /// The body after its inner attributes, as top-level token trees.
    tokens: &'a [TokenTree],
    braces: &'a Group,
    /// Whether the body starts with `#![…]` (then `braces` holds more than
    /// `tokens`).
    has_inner_attrs: bool,
    is_async: bool,
}

/// Expands attribute `which` with arguments `args` on `item`. On error,
/// [`fallback::function`] emits the function without our attributes.
pub fn attribute(which: Which, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function = match Function::parse(item.clone()) {
        Ok(f) => f,
        Err(_) => return fallback::not_a_function(which, item),
    };
    let mut errors = Errors::default();
    let mut spec = Spec::default();
    errors.check(
        attr::function_attr(which, args)
            .and_then(|attr| spec.add(attr, proc_macro2::Span::call_site())),
    );
    for sibling in std::mem::take(&mut function.siblings) {
        let span = sibling.span();
        let which = sibling.which;
        errors.check(
            sibling
                .args
                .and_then(|tokens| attr::function_attr(which, tokens))
                .and_then(|attr| spec.add(attr, span)),
        );
        // Taken off the function (it would expand into a second wrapper);
        // its path is `use`d in the body instead, so the user's
        // `use asdlc_metrics::counted` does not go unused. That `use` needs
        // no `#[allow(unused_imports)]` (a lint attribute per function cost
        // 23 M instructions per rebuild of 500): its `use … as _;` tokens
        // are the macro's, so rustc does not lint it as the user's code,
        // while the path keeps the user's tokens, so it resolves as they
        // wrote it and an error in it points at it.
        spec.absorbed.push(sibling.path);
    }
    valid::spec(&spec, &mut errors);
    valid::constness(function.constness, which, &mut errors);
    match errors.finish() {
        Ok(()) => generate(function, &spec),
        Err(errors) => fallback::function(&errors, &function, &spec.absorbed),
    }
}

fn generate(function: Function, spec: &Spec) -> TokenStream {
    let Function {
        attrs: outer,
        head,
        ident,
        is_async,
        output,
        output_tokens,
        inner_attrs: inner,
        body,
        braces,
        ..
    } = function;
    let site = site::site(spec, &ident.unraw().to_string());
    let parts = Body {
        ret: output.as_ref(),
        ret_tokens: &output_tokens,
        tokens: &body,
        braces: &braces,
        has_inner_attrs: !inner.is_empty(),
        is_async,
    };
    let body = async_fn::expand(&parts)
        .or_else(|| async_trait::expand(&parts))
        .or_else(|| impl_future::expand(&parts))
        .unwrap_or_else(|| sync::expand(&parts));
    let absorbed = &spec.absorbed;
    let (function, kinds, options) = match site {
        site::Site::Default { function, kinds } => (vec![function], vec![kinds], None),
        site::Site::Options(site) => (vec![], vec![], Some(site)),
    };
    let mut block = quote! {
        #(#inner)*
        #(use #(#absorbed)* as _;)*
        #(static __ASDLC_SITE: ::asdlc_metrics::__private::Site = ::asdlc_metrics::__private::site_of(#function, ::core::module_path!(), #kinds);)*
        #options
    };
    block.extend([body]);
    let mut out = outer;
    out.extend(head);
    out.push(TokenTree::Group(Group::new(Delimiter::Brace, block)));
    out.into_iter().collect()
}
