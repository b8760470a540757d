//! The annotated function, parsed only as far as the macros need: its
//! attributes, visibility and signature. The body stays a token stream:
//! parsing every statement of every annotated function with `syn` was most
//! of the macros' own expansion time, and nothing in the body needs to be
//! understood — it is moved, unchanged, into the generated wrapper.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

/// `#[attrs] vis sig { body }`.
pub struct Function {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    /// `#![…]` at the start of the body.
    pub inner_attrs: TokenStream,
    /// The rest of the body.
    pub body: TokenStream,
    /// The body's braces (for spans).
    pub braces: Group,
}

impl Parse for Function {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let braces: Group = input.parse()?;
        if braces.delimiter() != Delimiter::Brace {
            return Err(syn::Error::new(braces.span(), "expected a function body"));
        }
        let (inner_attrs, body) = split_inner_attributes(braces.stream());
        Ok(Function {
            attrs,
            vis,
            sig,
            inner_attrs,
            body,
            braces,
        })
    }
}

impl ToTokens for Function {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let Function {
            attrs,
            vis,
            sig,
            inner_attrs,
            body,
            ..
        } = self;
        tokens.extend(quote!(#(#attrs)* #vis #sig { #inner_attrs #body }));
    }
}

/// Splits leading `#![…]` attributes off a body.
fn split_inner_attributes(body: TokenStream) -> (TokenStream, TokenStream) {
    // Most bodies have none: look at the first token before copying any.
    if !matches!(body.clone().into_iter().next(), Some(TokenTree::Punct(p)) if p.as_char() == '#') {
        return (TokenStream::new(), body);
    }
    let mut tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut end = 0;
    while let [
        TokenTree::Punct(hash),
        TokenTree::Punct(bang),
        TokenTree::Group(group),
        ..,
    ] = &tokens[end..]
    {
        if hash.as_char() != '#' || bang.as_char() != '!' || group.delimiter() != Delimiter::Bracket
        {
            break;
        }
        end += 3;
    }
    let rest = tokens.split_off(end);
    (tokens.into_iter().collect(), rest.into_iter().collect())
}

/// If `body` ends in `Box::pin(<future>)` — the body `#[async_trait]`
/// generates for an `async fn` — the tokens before that call, the
/// `Box::pin` path tokens and the future's tokens.
pub fn box_pin_tail(body: &TokenStream) -> Option<(TokenStream, TokenStream, TokenStream)> {
    let tokens: Vec<TokenTree> = body.clone().into_iter().collect();
    let n = tokens.len();
    let [
        ..,
        TokenTree::Ident(boxed),
        TokenTree::Punct(c1),
        TokenTree::Punct(c2),
        TokenTree::Ident(pin),
        TokenTree::Group(args),
    ] = tokens.as_slice()
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

    #[test]
    fn inner_attributes_are_split_off() {
        let f: Function = syn::parse_quote!(
            fn f() {
                #![allow(x)]
                #![deny(y)]
                let a = 1;
                a
            }
        );
        assert_eq!(
            f.inner_attrs.to_string(),
            quote!(#![allow(x)] #![deny(y)]).to_string()
        );
        assert_eq!(f.body.to_string(), quote!(let a = 1; a).to_string());
    }

    #[test]
    fn async_trait_tails_are_found() {
        let body = quote!(let x = 1; ::alloc::boxed::Box::pin(async move { x }));
        let (before, path, future) = box_pin_tail(&body).unwrap();
        assert_eq!(before.to_string(), quote!(let x = 1;).to_string());
        assert_eq!(
            path.to_string(),
            quote!(::alloc::boxed::Box::pin).to_string()
        );
        assert_eq!(future.to_string(), quote!(async move { x }).to_string());
        assert!(box_pin_tail(&quote!(Box::pin(ready(1)))).is_none());
        assert!(box_pin_tail(&quote!(x + 1)).is_none());
    }
}
