//! Any other function: a guard, then the body in a closure called in
//! place, then the outcome of the value. Inline, so each function costs one
//! closure and no generic instantiation (a generic call per function was
//! most of what instrumentation cost at build time). With `impl Trait` in
//! the return type, the body's type can only be named through a closure's
//! expected signature, so it goes through the generic `call`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use super::Body;
use super::types::{classify, contains_impl, outcome_of, type_argument};

pub fn expand(body: &Body<'_>) -> TokenStream {
    let Body { ret, tokens, .. } = *body;
    if ret.is_some_and(contains_impl) {
        // `impl Trait` is not allowed in a closure's `-> R`.
        let classify = classify(ret);
        let ret_ty = type_argument(ret);
        return quote! {
            ::asdlc_metrics::__private::call::<#ret_ty>(&__ASDLC_SITE, move || { #tokens }, #classify)
        };
    }
    let guard = Ident::new("asdlc_guard", Span::mixed_site());
    let value = Ident::new("asdlc_value", Span::mixed_site());
    let once = Ident::new("asdlc_once", Span::mixed_site());
    let outcome = outcome_of(ret, &quote!(&#value));
    let ret_ty = ret.map(|ty| quote!(-> #ty));
    // Moving `once` into the closure and dropping it there makes it an
    // `FnOnce`, so the body may return borrows of what it captured
    // (`&mut self.field`), as the function could.
    quote! {
        let mut #guard = ::asdlc_metrics::__private::Guard::start(&__ASDLC_SITE);
        let #once = ::asdlc_metrics::__private::CallOnce;
        #[allow(clippy::redundant_closure_call)]
        let #value = (move || #ret_ty {
            ::core::mem::drop(#once);
            #tokens
        })();
        #guard.set_outcome(#outcome);
        #value
    }
}
