//! Any other function: a guard, the body, then the outcome of its value.
//!
//! The body's `return`s must come back to the wrapper, not leave the
//! function. Where they can be found in the tokens — no `?`, no macro call,
//! no closure or nested item that could hide a `return` of its own — the
//! body goes into a labelled block and each `return` becomes a `break` out
//! of it: no closure, the cheapest form to compile (a closure per function
//! is a new type, a new body to check and a new function to generate).
//! Otherwise the body goes into a closure called in place. Both are inline,
//! with no generic instantiation per function. With `impl Trait` in the
//! return type, the body's type can only be named through a closure's
//! expected signature, so it goes through the generic `call`.

use proc_macro2::{Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::quote;

use super::Body;
use super::types::{classify, contains_impl, outcome_of, type_argument};

pub fn expand(body: &Body<'_>) -> TokenStream {
    let Body { ret, tokens, .. } = *body;
    if ret.is_some_and(contains_impl) {
        // `impl Trait` is not allowed in a closure's `-> R` or a `let`.
        let classify = classify(ret);
        let ret_ty = type_argument(ret);
        return quote! {
            __asdlc::call::<#ret_ty>(&__ASDLC_SITE, move || { #tokens }, #classify)
        };
    }
    let guard = Ident::new("asdlc_guard", Span::mixed_site());
    let value = Ident::new("asdlc_value", Span::mixed_site());
    let outcome = outcome_of(ret, &quote!(&#value));
    let ret_ty = ret.map_or_else(|| quote!(()), |ty| quote!(#ty));
    let label = label();
    let run = match breaking_returns(tokens, &label) {
        Some(block) => quote! {
            let #value: #ret_ty = #label: { #block };
        },
        None => {
            let once = Ident::new("asdlc_once", Span::mixed_site());
            // Moving `once` into the closure and dropping it there makes it
            // an `FnOnce`, so the body may return borrows of what it
            // captured (`&mut self.field`), as the function could.
            quote! {
                let #once = __asdlc::CallOnce;
                #[allow(clippy::redundant_closure_call)]
                let #value = (move || -> #ret_ty {
                    ::core::mem::drop(#once);
                    #tokens
                })();
            }
        }
    };
    quote! {
        let #guard = __asdlc::Guard::start(&__ASDLC_SITE);
        #run
        #guard.finish(#outcome);
        #value
    }
}

/// The label of the block holding the body (hygienic: the user's labels
/// cannot name it).
fn label() -> TokenStream {
    let mut label = TokenStream::new();
    label.extend([
        TokenTree::Punct(Punct::new('\'', Spacing::Joint)),
        TokenTree::Ident(Ident::new("asdlc_body", Span::mixed_site())),
    ]);
    label
}

/// `body` with every `return` turned into `break 'label`, or `None` when
/// the body may leave the function in a way the tokens do not show (`?`, a
/// macro call) or holds a closure, `async` block or item whose `return`
/// belongs to it.
fn breaking_returns(body: &TokenStream, label: &TokenStream) -> Option<TokenStream> {
    let mut out = TokenStream::new();
    let mut tokens = body.clone().into_iter().peekable();
    while let Some(token) = tokens.next() {
        match &token {
            TokenTree::Ident(ident) if ident == "return" => {
                out.extend([TokenTree::Ident(Ident::new("break", ident.span()))]);
                out.extend(label.clone());
                continue;
            }
            TokenTree::Ident(ident)
                if ["fn", "async", "impl", "trait", "mod", "macro_rules"]
                    .iter()
                    .any(|k| ident == k) =>
            {
                return None;
            }
            TokenTree::Punct(p) if p.as_char() == '?' || p.as_char() == '|' => return None,
            TokenTree::Punct(p) if p.as_char() == '!' => {
                if let Some(TokenTree::Group(_)) = tokens.peek() {
                    return None;
                }
            }
            TokenTree::Group(group) => {
                let inner = breaking_returns(&group.stream(), label)?;
                let mut rebuilt = Group::new(group.delimiter(), inner);
                rebuilt.set_span(group.span());
                out.extend([TokenTree::Group(rebuilt)]);
                continue;
            }
            _ => {}
        }
        out.extend([token]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(body: TokenStream) -> Option<String> {
        breaking_returns(&body, &quote!('l)).map(|t| t.to_string())
    }

    #[test]
    fn returns_become_breaks() {
        assert_eq!(
            rewrite(quote!(if x { return Err(1); } for i in 0..3 { if i == x { return; } } Ok(x))),
            Some(
                quote!(if x { break 'l Err(1); } for i in 0..3 { if i == x { break 'l; } } Ok(x))
                    .to_string()
            )
        );
        assert_eq!(rewrite(quote!(a != b)), Some(quote!(a != b).to_string()));
    }

    #[test]
    fn hidden_exits_keep_the_closure() {
        for body in [
            quote!(let v = s.parse()?; v),
            quote!(println!("x"); 1),
            quote!(let f = |x| x + 1; f(1)),
            quote!(a || b),
            quote!(
                fn inner() -> u8 {
                    return 1;
                },
                inner()
            ),
            quote!(let fut = async { 1 }; 2),
        ] {
            assert_eq!(rewrite(body.clone()), None, "{body}");
        }
    }
}
