//! What the expansions need to know about the declared return type: how
//! to name it where `impl Trait` is not allowed, how to classify the
//! returned value, and which future it is.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{GenericArgument, Ident, PathArguments, Type, TypeImplTrait, TypeParamBound};

/// A never-taken `return` of the declared type at the top of the `async`
/// block holding the user's body. An `async` block takes its output type
/// from its first return site, so this makes the body's results coerce to
/// the declared type (`&Vec<u8>` to `&[u8]`) as they did in the `async fn`.
/// (`tracing::instrument` uses the same device.) Not needed for `()` and
/// impossible for `impl Trait`.
pub fn return_type_hint(ret: Option<&Type>) -> TokenStream {
    let Some(ty) = ret else {
        return TokenStream::new();
    };
    if contains_impl(ty) {
        return TokenStream::new();
    }
    // At the return type, for errors, but made by the macro (`located_at`),
    // so that clippy does not lint it as the user's code; and with no
    // diverging expression, so that rustc's `unreachable_code` has nothing to
    // report. It then needs no lint attribute: an `allow` of the seven lints
    // this hint used to raise cost rustc 195 M instructions per rebuild of
    // 500 such functions.
    let span = Span::call_site().located_at(ty.span());
    quote_spanned! {span=>
        if false {
            return ::core::option::Option::<#ty>::None.unwrap();
        }
    }
}

/// Whether `ty` mentions `impl Trait` (or `!`) anywhere.
pub fn contains_impl(ty: &Type) -> bool {
    // A return type kept as tokens has none (see `item::return_type`).
    !matches!(ty, Type::Verbatim(_)) && infer_impls(ty) != *ty
}

/// The return type as a type argument: `()` when there is none, `impl
/// Trait` replaced by `_`. Naming it lets the compiler check the user's body
/// against it (coercions included), exactly as the original function did.
pub fn type_argument(ret: Option<&Type>) -> TokenStream {
    ret.map_or_else(|| quote!(()), |ty| infer_impls(ty).into_token_stream())
}

/// The closure that turns a reference to the returned value into an
/// `Outcome` (see `asdlc_metrics::__private::probe` for the technique).
pub fn classify(ret: Option<&Type>) -> TokenStream {
    match ret {
        None => quote!(|_: &()| ::asdlc_metrics::__private::Outcome::Ok),
        // An opaque or never type cannot be a `Result`.
        Some(Type::ImplTrait(_) | Type::Never(_)) => {
            quote!(|_| ::asdlc_metrics::__private::Outcome::Ok)
        }
        Some(ty) => {
            let ty = infer_impls(ty);
            let value = Ident::new("asdlc_value", Span::mixed_site());
            let outcome = outcome_of(Some(&ty), &quote!(#value));
            quote!(|#value: &#ty| #outcome)
        }
    }
}

/// The `Outcome` of the returned value, given `reference`, an expression of
/// type `&R`: by specialisation along a deref chain (see `asdlc_metrics::__private::probe`),
/// resolved where the type is concrete; `Ok` without a return type.
pub fn outcome_of(ret: Option<&Type>, reference: &TokenStream) -> TokenStream {
    if ret.is_none() {
        return quote!(::asdlc_metrics::__private::Outcome::Ok);
    }
    quote!(::asdlc_metrics::__private::probe(#reference).__asdlc_classify())
}

/// `ty` with every `impl Trait` replaced by `_`, so it can annotate a
/// closure parameter or turbofish (where `impl Trait` is not allowed).
fn infer_impls(ty: &Type) -> Type {
    struct Infer;
    impl VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(_) | Type::Never(_) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: Default::default(),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Infer.visit_type_mut(&mut ty);
    ty
}

/// `T` when `ty` is `impl Future<Output = T> (+ …)`.
pub fn impl_future_output(ty: &Type) -> Option<&Type> {
    let Type::ImplTrait(TypeImplTrait { bounds, .. }) = ty else {
        return None;
    };
    bounds.iter().find_map(future_output)
}

/// `T` from a `Future<Output = T>` bound.
fn future_output(bound: &TypeParamBound) -> Option<&Type> {
    let TypeParamBound::Trait(t) = bound else {
        return None;
    };
    let last = t.path.segments.last()?;
    if last.ident != "Future" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
        _ => None,
    })
}

/// The output type of `Pin<Box<dyn Future<Output = T> + …>>`.
pub fn boxed_future_output(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let pin = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &pin.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(Type::Path(boxed))) = args.args.first() else {
        return None;
    };
    let boxed = boxed.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &boxed.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(Type::TraitObject(object))) = args.args.first() else {
        return None;
    };
    object.bounds.iter().find_map(future_output)
}
