//! `async fn`: the body becomes
//! `instrument(site, async move { body }, classify).await`.

use proc_macro2::TokenStream;
use quote::quote_spanned;

use super::Body;
use super::types::{classify, return_type_hint, type_argument};

pub fn expand(body: &Body<'_>) -> Option<TokenStream> {
    if !body.is_async {
        return None;
    }
    let Body {
        ret,
        tokens,
        braces,
        ..
    } = *body;
    let classify = classify(ret, &body.classified);
    let output = type_argument(ret);
    let typed = return_type_hint(ret);
    Some(quote_spanned! {braces.span()=>
        __asdlc::instrument::<#output, _, _>(
            &__ASDLC_SITE,
            async move { #typed #tokens },
            #classify,
        ).await
    })
}
