//! A function returning `impl Future<Output = T>`: the returned future is
//! wrapped. The body is evaluated in a closure, so an early `return` in it
//! stays local.

use proc_macro2::TokenStream;
use quote::quote;

use super::Body;
use super::types::{classify, impl_future_output, type_argument};

pub fn expand(body: &Body<'_>) -> Option<TokenStream> {
    let output = body.ret.and_then(impl_future_output)?;
    let tokens = body.tokens;
    let classify = classify(Some(output));
    let output = type_argument(Some(output));
    Some(quote! {
        ::asdlc_metrics::__private::instrument::<#output, _, _>(
            &__ASDLC_SITE,
            ::asdlc_metrics::__private::call_plain(move || { #(#tokens)* }),
            #classify,
        )
    })
}
