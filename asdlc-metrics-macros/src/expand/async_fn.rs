//! `async fn` returning `impl Trait`: the body becomes
//! `instrument(site, async move { body }, classify).await` (its value's type
//! can be named only through the wrapper's generic parameter). Any other
//! `async fn` keeps its guard in its own future (`sync.rs`).

use proc_macro2::TokenStream;
use quote::quote_spanned;

use super::Body;
use super::types::{classify, contains_impl, return_type_hint, type_argument};

pub fn expand(body: &Body<'_>) -> Option<TokenStream> {
    if !body.is_async || !body.ret.is_some_and(contains_impl) {
        return None;
    }
    let Body {
        ret,
        tokens,
        braces,
        ..
    } = *body;
    let classify = classify(ret);
    let output = type_argument(ret);
    let typed = return_type_hint(ret);
    Some(quote_spanned! {braces.span()=>
        ::asdlc_metrics::__private::instrument::<#output, _, _>(
            &__ASDLC_SITE,
            async move { #typed #(#tokens)* },
            #classify,
        ).await
    })
}
