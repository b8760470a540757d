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
}
