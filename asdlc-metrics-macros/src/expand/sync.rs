//! Any other function, and an `async fn` whose return type names no
//! `impl Trait`: a guard, the body, then the outcome of its value, all in
//! the function itself.
//!
//! The body's `return`s must come back to the wrapper, not leave the
//! function. Where they can be found in the tokens — no `?`, no macro call,
//! no closure or nested item that could hide a `return` of its own — the
//! body goes into a labelled block and each `return` becomes a `break` out
//! of it: no closure, the cheapest form to compile (a closure per function
//! is a new type, a new body to check and a new function to generate).
//! Otherwise the body goes into a closure called in place (an `async`
//! block awaited in place, in an `async fn`). Both are inline, with no
//! generic instantiation per function. With `impl Trait` in the return
//! type, the body's type can only be named through a closure's expected
//! signature, so it goes through the generic `call` (`async_fn.rs` for an
//! `async fn`).
//!
//! In an `async fn` the guard lives in the function's own future: it starts
//! at the first poll, and is dropped — recording `cancelled`, or `panic`
//! while a poll unwinds — with that future, as the wrapper future of
//! `async_fn.rs` does, but with no future type and no classifying closure
//! instantiated per function (an `async fn` built 4.8× its plain build that
//! way).

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::quote;

use super::Body;
use super::types::{classify, contains_impl, outcome_of, return_type_hint, type_argument};

pub fn expand(body: &Body<'_>) -> TokenStream {
    let Body {
        ret,
        ret_tokens,
        tokens,
        ..
    } = *body;
    if ret.is_some_and(contains_impl) {
        // `impl Trait` is not allowed in a closure's `-> R` or a `let`.
        let classify = classify(ret);
        let ret_ty = type_argument(ret);
        return quote! {
            ::asdlc_metrics::__private::call::<#ret_ty>(&__ASDLC_SITE, move || { #(#tokens)* }, #classify)
        };
    }
    let guard = Ident::new("asdlc_guard", Span::mixed_site());
    let value = Ident::new("asdlc_value", Span::mixed_site());
    // Built as token trees and spliced into one `quote!`: in a proc macro
    // every token stream spliced into another is a call into the compiler.
    let outcome = Group::new(Delimiter::Parenthesis, outcome_of(ret, &quote!(&#value)));
    let unit = [TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        TokenStream::new(),
    ))];
    let ret_ty = if ret.is_some() { ret_tokens } else { &unit };
    match rewrite(tokens.to_vec(), &label()) {
        Some((block, changed)) => {
            let [apostrophe, name] = label();
            // A body with no `return` is its own braces, passed back to the
            // compiler as they came.
            let block = if changed || body.has_inner_attrs {
                Group::new(Delimiter::Brace, block.into_iter().collect())
            } else {
                body.braces.clone()
            };
            quote! {
                let #guard = __ASDLC_SITE.start();
                let #value: #(#ret_ty)* = #apostrophe #name: #block;
                #guard.finish #outcome;
                #value
            }
        }
        None if body.is_async => {
            // `?` and `return` stay in the block; the hint makes its
            // results coerce to the declared type, as in the `async fn`.
            let typed = return_type_hint(ret);
            quote! {
                let #guard = __ASDLC_SITE.start();
                let #value: #(#ret_ty)* = async move { #typed #(#tokens)* }.await;
                #guard.finish #outcome;
                #value
            }
        }
        None => {
            let once = Ident::new("asdlc_once", Span::mixed_site());
            // Moving `once` into the closure and dropping it there makes it
            // an `FnOnce`, so the body may return borrows of what it
            // captured (`&mut self.field`), as the function could.
            quote! {
                let #guard = __ASDLC_SITE.start();
                let #once = ::asdlc_metrics::__private::CallOnce;
                let #value = (move || -> #(#ret_ty)* {
                    ::core::mem::drop(#once);
                    #(#tokens)*
                })();
                #guard.finish #outcome;
                #value
            }
        }
    }
}

/// The label of the block holding the body (hygienic: the user's labels
/// cannot name it).
fn label() -> [TokenTree; 2] {
    [
        TokenTree::Punct(Punct::new('\'', Spacing::Joint)),
        TokenTree::Ident(Ident::new("asdlc_body", Span::mixed_site())),
    ]
}

/// `tokens` with every `return` turned into `break 'label`, and whether
/// there was any; `None` when the body may leave the function in a way the
/// tokens do not show (`?`, a macro call) or holds a closure, `async` block
/// or item whose `return` belongs to it. Only the groups on the way to a `return` are rebuilt; every
/// other group is kept as it came (in a proc macro, building a token
/// stream is a call into the compiler with all of its tokens).
fn rewrite(mut tokens: Vec<TokenTree>, label: &[TokenTree; 2]) -> Option<(Vec<TokenTree>, bool)> {
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            // One string per identifier: in a proc macro each comparison
            // of an `Ident` with a `&str` formats it anew.
            TokenTree::Ident(ident) => match ident.to_string().as_str() {
                "return" => {
                    let brk = TokenTree::Ident(Ident::new("break", ident.span()));
                    tokens.splice(i..=i, std::iter::once(brk).chain(label.clone()));
                    changed = true;
                    i += 3;
                    continue;
                }
                "fn" | "async" | "impl" | "trait" | "mod" | "macro_rules" => return None,
                _ => {}
            },
            TokenTree::Punct(p) if p.as_char() == '?' || p.as_char() == '|' => return None,
            TokenTree::Punct(p) if p.as_char() == '!' => {
                if let Some(TokenTree::Group(_)) = tokens.get(i + 1) {
                    return None;
                }
            }
            TokenTree::Group(group) => {
                if let (inner, true) = rewrite(group.stream().into_iter().collect(), label)? {
                    let mut rebuilt = Group::new(group.delimiter(), inner.into_iter().collect());
                    rebuilt.set_span(group.span());
                    tokens[i] = TokenTree::Group(rebuilt);
                    changed = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Some((tokens, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(body: TokenStream) -> Option<String> {
        let body: Vec<TokenTree> = body.into_iter().collect();
        super::rewrite(body.into_iter().collect(), &label())
            .map(|(t, _)| t.into_iter().collect::<TokenStream>().to_string())
    }

    #[test]
    fn returns_become_breaks() {
        assert_eq!(
            rewrite(quote!(if x { return Err(1); } for i in 0..3 { if i == x { return; } } Ok(x))),
            Some(
                quote!(if x { break 'asdlc_body Err(1); } for i in 0..3 { if i == x { break 'asdlc_body; } } Ok(x))
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
