//! An `async-trait` method: a body ending in `Box::pin(async move {..})`,
//! which is what `#[async_trait]` produces before our attribute expands,
//! for a declared `Pin<Box<dyn Future<Output = T> + ..>>`. The pinned future
//! is wrapped: `Box::pin(instrument(site, async move {..}, classify))`.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::quote;

use super::Body;
use super::types::{boxed_future_output, classify, type_argument};

pub fn expand(body: &Body<'_>) -> Option<TokenStream> {
    if body.is_async {
        // An `async fn` returning a boxed future is timed as the `async fn`.
        return None;
    }
    let output = body.ret.and_then(boxed_future_output)?;
    let (before, box_pin, future) = box_pin_tail(body.tokens)?;
    let classify = classify(Some(output));
    let output = type_argument(Some(output));
    Some(quote! {
        #before
        #box_pin(::asdlc_metrics::__private::instrument::<#output, _, _>(&__ASDLC_SITE, #future, #classify))
    })
}

/// If `body` ends in `Box::pin(<future>)` — the body `#[async_trait]`
/// generates for an `async fn` — the tokens before that call, the
/// `Box::pin` path tokens and the future's tokens.
fn box_pin_tail(tokens: &[TokenTree]) -> Option<(TokenStream, TokenStream, TokenStream)> {
    let n = tokens.len();
    let [
        ..,
        TokenTree::Ident(boxed),
        TokenTree::Punct(c1),
        TokenTree::Punct(c2),
        TokenTree::Ident(pin),
        TokenTree::Group(args),
    ] = tokens
    else {
        return None;
    };
    let is_call = boxed == "Box"
        && c1.as_char() == ':'
        && c2.as_char() == ':'
        && pin == "pin"
        && args.delimiter() == Delimiter::Parenthesis;
    let starts_async =
        matches!(args.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "async");
    if !is_call || !starts_async {
        return None;
    }
    // The path may be qualified (`::alloc::boxed::Box::pin`): keep every
    // token of it, stopping at the statement before it.
    let mut start = n - 5;
    while start >= 2 {
        match (&tokens[start - 2], &tokens[start - 1]) {
            (TokenTree::Punct(a), TokenTree::Punct(b))
                if a.as_char() == ':' && b.as_char() == ':' =>
            {
                start -= 2;
                if let Some(TokenTree::Ident(_)) = start.checked_sub(1).map(|i| &tokens[i]) {
                    start -= 1;
                }
            }
            _ => break,
        }
    }
    let before = tokens[..start].iter().cloned().collect();
    let path = tokens[start..n - 1].iter().cloned().collect();
    Some((before, path, args.stream()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trees(stream: TokenStream) -> Vec<TokenTree> {
        stream.into_iter().collect()
    }

    #[test]
    fn async_trait_tails_are_found() {
        let body = trees(quote!(let x = 1; ::alloc::boxed::Box::pin(async move { x })));
        let (before, path, future) = box_pin_tail(&body).unwrap();
        assert_eq!(before.to_string(), quote!(let x = 1;).to_string());
        assert_eq!(
            path.to_string(),
            quote!(::alloc::boxed::Box::pin).to_string()
        );
        assert_eq!(future.to_string(), quote!(async move { x }).to_string());
        assert!(box_pin_tail(&trees(quote!(Box::pin(ready(1))))).is_none());
        assert!(box_pin_tail(&trees(quote!(x + 1))).is_none());
    }
}
