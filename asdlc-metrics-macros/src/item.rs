//! The annotated function, read only as far as the macros need: our
//! sibling attributes, the name, `const`/`async` and the return type.
//! Everything else — other attributes, visibility, generics, parameters,
//! `where` clause and body — is passed through as the tokens the compiler
//! gave us.
//!
//! This costs build time on every annotated function, so it avoids `syn`
//! where a token scan is enough: inside a proc macro every token `syn`
//! looks at (and every keyword it checks for) is a call into the compiler,
//! and proc macros run unoptimised in debug builds. Parsing the whole
//! signature with `syn` and printing it back was a third of the macros'
//! expansion time; only the return type, which the expansion must
//! understand, is parsed.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt as _};
use syn::parse::{Parse, ParseStream, Parser as _};
use syn::{Attribute, Type};

use crate::ast::Which;

/// `#[attrs] vis qualifiers fn name<..>(..) -> ret where .. { body }`.
pub struct Function {
    /// Outer attributes that are not ours, as written.
    pub attrs: Vec<TokenTree>,
    /// Our attributes on the function besides the one being expanded.
    pub siblings: Vec<Sibling>,
    /// Visibility and signature, as written.
    pub head: Vec<TokenTree>,
    /// The function's name.
    pub ident: Ident,
    /// The `const` qualifier, if any.
    pub constness: Option<Span>,
    /// Whether it is an `async fn`.
    pub is_async: bool,
    /// The declared return type (`None` for `()` by omission).
    pub output: Option<Type>,
    /// Its tokens (none for `()` by omission).
    pub output_tokens: Vec<TokenTree>,
    /// `#![…]` at the start of the body.
    pub inner_attrs: Vec<TokenTree>,
    /// The rest of the body, as its top-level token trees (read once from
    /// the compiler: each read of a token stream is a call into it that
    /// copies every tree).
    pub body: Vec<TokenTree>,
    /// The body's braces (for spans).
    pub braces: Group,
}

impl Function {
    /// Reads `item`, or says at which token it is not a function with a
    /// body.
    pub fn parse(item: TokenStream) -> syn::Result<Self> {
        let mut tokens: Vec<TokenTree> = item.into_iter().collect();
        let braces = match tokens.pop() {
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => group,
            other => {
                let span = other.map_or_else(Span::call_site, |t| t.span());
                return Err(syn::Error::new(span, "expected a function body"));
            }
        };
        let mut tokens = tokens.into_iter().peekable();
        let mut attrs = Vec::new();
        let mut siblings = Vec::new();
        while let Some(TokenTree::Punct(hash)) = tokens.peek()
            && hash.as_char() == '#'
        {
            let hash = tokens.next().expect("peeked");
            let Some(TokenTree::Group(brackets)) = tokens.next() else {
                return Err(syn::Error::new(hash.span(), "expected an attribute"));
            };
            match Sibling::read(hash.clone(), &brackets) {
                Some(sibling) => siblings.push(sibling),
                None => attrs.extend([hash, TokenTree::Group(brackets)]),
            }
        }
        let head: Vec<TokenTree> = tokens.collect();
        let signature = Signature::scan(&head)?;
        Ok(Function {
            attrs,
            siblings,
            head,
            ident: signature.ident,
            constness: signature.constness,
            is_async: signature.is_async,
            output: signature
                .output
                .as_ref()
                .map(|tokens| return_type(tokens))
                .transpose()?,
            output_tokens: signature.output.unwrap_or_default(),
            inner_attrs: Vec::new(),
            body: Vec::new(),
            braces,
        }
        .split_body())
    }

    fn split_body(mut self) -> Self {
        (self.inner_attrs, self.body) = split_inner_attributes(self.braces.stream());
        self
    }
}

impl Parse for Function {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Function::parse(input.parse()?)
    }
}

impl ToTokens for Function {
    /// The function as written, without our attributes.
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        tokens.append_all(&self.head);
        tokens.append(self.braces.clone());
    }
}

/// The return type. Parsed only if the expansion must look into it (an
/// `impl Trait`, `!` or `dyn` in it); otherwise kept as its tokens
/// (`Type::Verbatim`), which is all the expansion does with it.
fn return_type(tokens: &[TokenTree]) -> syn::Result<Type> {
    fn needs_parsing<'a>(mut tokens: impl Iterator<Item = &'a TokenTree>) -> bool {
        tokens.any(|token| match token {
            TokenTree::Ident(word) => matches!(word.to_string().as_str(), "impl" | "dyn"),
            TokenTree::Punct(p) => p.as_char() == '!',
            TokenTree::Group(group) => {
                needs_parsing(group.stream().into_iter().collect::<Vec<_>>().iter())
            }
            TokenTree::Literal(_) => false,
        })
    }
    let stream = tokens.iter().cloned().collect();
    if needs_parsing(tokens.iter()) {
        Type::parse.parse2(stream)
    } else {
        Ok(Type::Verbatim(stream))
    }
}

/// One of our attributes next to the one being expanded: `#[counted]`,
/// `#[asdlc_metrics::counted(..)]`, …
pub struct Sibling {
    pub which: Which,
    /// The attribute's path as written.
    pub path: Vec<TokenTree>,
    /// Its arguments: none for `#[counted]`, the list of `#[counted(..)]`;
    /// the error for any other shape (reported with the others, after the
    /// function is read).
    pub args: syn::Result<TokenStream>,
}

impl Sibling {
    /// `None` when `#[..]` is not one of ours. The two usual shapes are read
    /// from the tokens; anything else goes through `syn` for its error.
    fn read(hash: TokenTree, brackets: &Group) -> Option<Sibling> {
        let mut tokens = brackets.stream().into_iter().peekable();
        let mut path = Vec::with_capacity(4);
        let mut words = Vec::with_capacity(2);
        while let Some(token) = tokens.next_if(|t| match t {
            TokenTree::Ident(_) => true,
            TokenTree::Punct(p) => p.as_char() == ':',
            _ => false,
        }) {
            if let TokenTree::Ident(word) = &token {
                words.push(word.to_string());
            }
            path.push(token);
        }
        let which = match words.as_slice() {
            [only] => Which::from_name(only)?,
            [krate, last] if krate == "asdlc_metrics" || krate == "asdlc_metrics_macros" => {
                Which::from_name(last)?
            }
            _ => return None,
        };
        let args = match (tokens.next(), tokens.next()) {
            (None, _) => Ok(TokenStream::new()),
            (Some(TokenTree::Group(list)), None) => Ok(list.stream()),
            _ => Self::unusual(which, hash, brackets),
        };
        Some(Sibling { which, path, args })
    }

    /// The error for an attribute of an unusual shape (`#[counted = ..]`),
    /// as `syn` and [`crate::attr::arg_tokens`] word it.
    fn unusual(which: Which, hash: TokenTree, brackets: &Group) -> syn::Result<TokenStream> {
        let mut attribute = TokenStream::new();
        attribute.append(hash);
        attribute.append(brackets.clone());
        let parsed = Attribute::parse_outer.parse2(attribute)?.remove(0);
        crate::attr::arg_tokens(&parsed, which.name())
    }

    /// Where errors about the attribute point.
    pub fn span(&self) -> Span {
        self.path
            .first()
            .map_or_else(Span::call_site, TokenTree::span)
    }
}

/// What the expansion needs from the signature.
struct Signature {
    ident: Ident,
    constness: Option<Span>,
    is_async: bool,
    /// The return type's tokens.
    output: Option<Vec<TokenTree>>,
}

impl Signature {
    /// Scans visibility and signature: qualifiers up to `fn`, the name,
    /// generics (`<` … `>`, where `->` is not a closing bracket), the
    /// parameters, then `-> type` up to a `where` outside brackets.
    fn scan(head: &[TokenTree]) -> syn::Result<Signature> {
        let not_a_function = || {
            let span = head.first().map_or_else(Span::call_site, TokenTree::span);
            syn::Error::new(span, "expected a function")
        };
        let mut constness = None;
        let mut is_async = false;
        let mut tokens = head.iter();
        loop {
            match tokens.next() {
                Some(TokenTree::Ident(word)) => match word.to_string().as_str() {
                    "fn" => break,
                    "const" => constness = Some(word.span()),
                    "async" => is_async = true,
                    _ => {}
                },
                Some(_) => {}
                None => return Err(not_a_function()),
            }
        }
        let Some(TokenTree::Ident(ident)) = tokens.next() else {
            return Err(not_a_function());
        };
        // Generics, then the parameters.
        let mut depth = 0usize;
        let mut after_minus = false;
        loop {
            let token = tokens.next().ok_or_else(not_a_function)?;
            match token {
                TokenTree::Group(g) if depth == 0 && g.delimiter() == Delimiter::Parenthesis => {
                    break;
                }
                TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
                TokenTree::Punct(p) if p.as_char() == '>' && !after_minus => {
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            after_minus = matches!(token, TokenTree::Punct(p) if p.as_char() == '-');
        }
        let output = match (tokens.next(), tokens.next()) {
            (Some(TokenTree::Punct(minus)), Some(TokenTree::Punct(gt)))
                if minus.as_char() == '-' && gt.as_char() == '>' =>
            {
                let mut ret = Vec::new();
                let mut depth = 0usize;
                let mut after_minus = false;
                for token in tokens {
                    match token {
                        TokenTree::Ident(word) if depth == 0 && word == "where" => break,
                        TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
                        TokenTree::Punct(p) if p.as_char() == '>' && !after_minus => {
                            depth = depth.saturating_sub(1);
                        }
                        _ => {}
                    }
                    after_minus = matches!(token, TokenTree::Punct(p) if p.as_char() == '-');
                    ret.push(token.clone());
                }
                Some(ret)
            }
            _ => None,
        };
        Ok(Signature {
            ident: ident.clone(),
            constness,
            is_async,
            output,
        })
    }
}

/// Splits leading `#![…]` attributes off a body.
fn split_inner_attributes(body: TokenStream) -> (Vec<TokenTree>, Vec<TokenTree>) {
    let mut tokens: Vec<TokenTree> = body.into_iter().collect();
    // Most bodies have none.
    if !matches!(tokens.first(), Some(TokenTree::Punct(p)) if p.as_char() == '#') {
        return (Vec::new(), tokens);
    }
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
    (tokens, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

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
            f.inner_attrs
                .iter()
                .cloned()
                .collect::<TokenStream>()
                .to_string(),
            quote!(#![allow(x)] #![deny(y)]).to_string()
        );
        assert_eq!(
            f.body.iter().cloned().collect::<TokenStream>().to_string(),
            quote!(let a = 1; a).to_string()
        );
    }

    #[test]
    fn the_signature_is_read_around_generics_and_where_clauses() {
        let f: Function = syn::parse_quote!(
            #[doc = "x"]
            #[asdlc_metrics::counted(name = "c")]
            #[inline]
            pub(crate) const async unsafe extern "C" fn r#g<F: Fn(u8) -> u8, const N: usize>(
                f: F,
            ) -> Result<Vec<u8>, Box<dyn Fn() -> u8>>
            where
                F: Send,
            {
                1
            }
        );
        assert_eq!(f.ident.to_string(), "r#g");
        assert!(f.constness.is_some() && f.is_async);
        let spaceless = |s: String| s.replace(' ', "");
        assert_eq!(
            spaceless(f.output.to_token_stream().to_string()),
            spaceless(quote!(Result<Vec<u8>, Box<dyn Fn() -> u8>>).to_string())
        );
        assert_eq!(f.siblings.len(), 1);
        assert_eq!(f.siblings[0].which, Which::Counted);
        assert_eq!(
            f.siblings[0].args.as_ref().map(ToString::to_string).ok(),
            Some(quote!(name = "c").to_string())
        );
        assert_eq!(
            f.attrs.iter().cloned().collect::<TokenStream>().to_string(),
            quote!(#[doc = "x"] #[inline]).to_string()
        );
        let plain: Function = syn::parse_quote!(
            fn h(x: u8)
            where
                u8: Copy,
            {
            }
        );
        assert!(plain.output.is_none() && !plain.is_async && plain.constness.is_none());
    }

    #[test]
    fn items_that_are_not_functions_with_a_body_are_errors() {
        for item in [
            quote!(
                struct S {}
            ),
            quote!(impl S { fn f() {} }),
            quote!(
                fn f();
            ),
            quote!(
                static F: fn() -> u8 = f;
            ),
        ] {
            assert!(Function::parse(item.clone()).is_err(), "{item}");
        }
    }
}
