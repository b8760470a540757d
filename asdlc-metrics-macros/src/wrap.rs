//! The one function-wrapping core behind every attribute macro.
//!
//! The first of `#[timed]`, `#[counted]`, `#[in_flight]` and `#[redis_op]`
//! to expand takes the others off the function and generates a single call
//! site for all of them: one `static` describing what to record, one drop
//! guard, one outcome classification. The user's body is moved unchanged
//! into a closure or `async move` block, so `return` and `?` keep their
//! meaning and errors in it keep pointing at the user's code.
//!
//! Forms:
//! * `async fn`: the body becomes `instrument(site, async move { body },
//!   classify).await`;
//! * an `async-trait` method (a body ending in `Box::pin(async move {..})`,
//!   which is what `#[async_trait]` produces before this macro expands): the
//!   pinned future is wrapped the same way;
//! * a function returning `impl Future<Output = T>`: the returned future is
//!   wrapped;
//! * anything else: a guard, then `(move || -> R { body })()` and the
//!   outcome of the value (inline: no generic instantiation per function,
//!   which is most of what instrumentation costs at build time); with `impl
//!   Trait` in `R`, `call(site, move || body, classify)`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Attribute, GenericArgument, Ident, Meta, PathArguments, ReturnType, Type,
    TypeImplTrait, TypeParamBound,
};

use crate::attr::{self, Args, Macro, MetricArgs};
use crate::item::{Function, box_pin_tail};

/// Expands attribute `which` with arguments `args` on `item`. On error the
/// function is still emitted (without our attributes) next to the errors,
/// so one mistake does not cascade into "function not found" elsewhere.
pub fn expand(which: Macro, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function: Function = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => return not_a_function(which, item),
    };
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };

    let mut spec = Spec::default();
    match attr::parse(which, args) {
        Ok(args) => {
            if let Err(e) = spec.add(args, Span::call_site()) {
                push(e);
            }
        }
        Err(e) => push(e),
    }
    let mut kept = Vec::with_capacity(function.attrs.len());
    for attribute in std::mem::take(&mut function.attrs) {
        match sibling(&attribute) {
            Some(other) => {
                if let Err(e) = sibling_args(other, &attribute)
                    .and_then(|args| spec.add(args, attribute.path().span()))
                {
                    push(e);
                }
                // Taken off the function (it would expand into a second
                // wrapper); its path is `use`d in the body instead, so the
                // user's `use asdlc_metrics::counted` does not go unused.
                spec.absorbed.push(attribute.path().clone());
            }
            None => kept.push(attribute),
        }
    }
    function.attrs = kept;
    if let Some(constness) = &function.sig.constness {
        push(syn::Error::new(
            constness.span(),
            format!(
                "#[{}] cannot instrument a `const fn`: recording metrics is not possible in const evaluation\nhint: remove `const`, or move the instrumented work into a non-const function",
                which.name()
            ),
        ));
    }
    if let Some(errors) = errors {
        let mut out = errors.to_compile_error();
        out.extend(function.into_token_stream());
        return out;
    }
    generate(function, &spec)
}

fn not_a_function(which: Macro, item: TokenStream) -> TokenStream {
    let bodiless = item.clone().into_iter().any(|t| t.to_string() == "fn");
    let message = if bodiless {
        format!(
            "#[{}] needs a function with a body to instrument",
            which.name()
        )
    } else {
        format!(
            "#[{}] can only be applied to functions and methods",
            which.name()
        )
    };
    let span = item
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span());
    let mut out = syn::Error::new(span, message).to_compile_error();
    out.extend(item);
    out
}

/// If `attribute` is one of ours (`#[timed]`, `#[asdlc_metrics::timed]`, …).
fn sibling(attribute: &Attribute) -> Option<Macro> {
    if attribute.style != AttrStyle::Outer {
        return None;
    }
    let path = attribute.path();
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let last = match segments.as_slice() {
        [only] => only,
        [krate, last] if krate == "asdlc_metrics" || krate == "asdlc_metrics_macros" => last,
        _ => return None,
    };
    Macro::from_name(last)
}

fn sibling_args(which: Macro, attribute: &Attribute) -> syn::Result<Args> {
    match &attribute.meta {
        Meta::Path(_) => attr::parse(which, TokenStream::new()),
        Meta::List(list) => attr::parse(which, list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new(
            nv.eq_token.span(),
            format!("use #[{}(...)] or #[{}]", which.name(), which.name()),
        )),
    }
}

/// What one call site records, gathered from all our attributes.
#[derive(Default)]
struct Spec {
    timed: Option<MetricArgs>,
    counted: Option<MetricArgs>,
    in_flight: Option<MetricArgs>,
    /// `Some(None)`: `#[redis_op]` without an explicit operation.
    redis: Option<Option<syn::LitStr>>,
    /// Paths of the sibling attributes taken off the function.
    absorbed: Vec<syn::Path>,
}

impl Spec {
    fn add(&mut self, args: Args, span: Span) -> syn::Result<()> {
        let (slot_taken, name) = match &args {
            Args::Metric(Macro::Timed, _) => (self.timed.is_some(), "timed"),
            Args::Metric(Macro::Counted, _) => (self.counted.is_some(), "counted"),
            Args::Metric(Macro::InFlight, _) => (self.in_flight.is_some(), "in_flight"),
            Args::Metric(Macro::RedisOp, _) | Args::Redis(_) => (self.redis.is_some(), "redis_op"),
        };
        if slot_taken {
            return Err(syn::Error::new(
                span,
                format!("#[{name}] is applied twice to this function"),
            ));
        }
        match args {
            Args::Metric(Macro::Timed, m) => self.timed = Some(m),
            Args::Metric(Macro::Counted, m) => self.counted = Some(m),
            Args::Metric(Macro::InFlight, m) => self.in_flight = Some(m),
            Args::Metric(Macro::RedisOp, _) => unreachable!("redis_op parses to Args::Redis"),
            Args::Redis(op) => self.redis = Some(op),
        }
        Ok(())
    }
}

fn metric_spec(args: Option<&MetricArgs>) -> TokenStream {
    let Some(args) = args else {
        return quote!(::core::option::Option::None);
    };
    if args.name.is_none()
        && args.help.is_none()
        && args.buckets.is_none()
        && args.labels.is_empty()
    {
        return quote!(::core::option::Option::Some(
            ::asdlc_metrics::__private::MetricSpec::DEFAULT
        ));
    }
    let option_str = |lit: Option<&syn::LitStr>| match lit {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let name = option_str(args.name.as_ref());
    let help = option_str(args.help.as_ref());
    let buckets = match &args.buckets {
        Some(bounds) => {
            let lits = bounds.iter().map(|b| &b.lit);
            quote!(::core::option::Option::Some(&[#(#lits),*]))
        }
        None => quote!(::core::option::Option::None),
    };
    let labels = args.labels.iter().map(|(key, value)| {
        let key = key.to_string();
        let key = key.strip_prefix("r#").unwrap_or(&key);
        quote!((#key, #value))
    });
    quote! {
        ::core::option::Option::Some(::asdlc_metrics::__private::MetricSpec {
            name: #name,
            help: #help,
            buckets: #buckets,
            labels: &[#(#labels),*],
        })
    }
}

fn generate(function: Function, spec: &Spec) -> TokenStream {
    let Function {
        attrs: outer,
        vis,
        sig,
        inner_attrs: inner,
        body,
        braces,
    } = function;
    let fn_name = sig.ident.to_string();
    let fn_name = fn_name.strip_prefix("r#").unwrap_or(&fn_name).to_owned();

    let timed = metric_spec(spec.timed.as_ref());
    let counted = metric_spec(spec.counted.as_ref());
    let in_flight = metric_spec(spec.in_flight.as_ref());
    let redis = match &spec.redis {
        None => quote!(::core::option::Option::None),
        Some(Some(op)) => quote!(::core::option::Option::Some(#op)),
        Some(None) => quote!(::core::option::Option::Some(#fn_name)),
    };
    let site = quote! {
        static __ASDLC_SITE: ::asdlc_metrics::__private::Site =
            ::asdlc_metrics::__private::Site::new(::asdlc_metrics::__private::SiteSpec {
                function: #fn_name,
                module: ::core::module_path!(),
                timed: #timed,
                counted: #counted,
                in_flight: #in_flight,
                redis: #redis,
            });
    };

    let ret = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(&**ty),
    };

    let body = if sig.asyncness.is_some() {
        let classify = classify(ret);
        let output = type_argument(ret);
        let typed = return_type_hint(ret);
        quote_spanned! {braces.span()=>
            ::asdlc_metrics::__private::instrument::<#output, _, _>(
                &__ASDLC_SITE,
                async move { #typed #body },
                #classify,
            ).await
        }
    } else if let Some((output, (before, box_pin, future))) = ret
        .and_then(boxed_future_output)
        .and_then(|output| Some((output, box_pin_tail(&body)?)))
    {
        // `Box::pin(async move {..})` → `Box::pin(instrument(.., async move {..}, ..))`
        let classify = classify(Some(output));
        let output = type_argument(Some(output));
        quote! {
            #before
            #box_pin(::asdlc_metrics::__private::instrument::<#output, _, _>(&__ASDLC_SITE, #future, #classify))
        }
    } else if let Some(output) = ret.and_then(impl_future_output) {
        let classify = classify(Some(output));
        let output = type_argument(Some(output));
        quote! {
            ::asdlc_metrics::__private::instrument::<#output, _, _>(
                &__ASDLC_SITE,
                ::asdlc_metrics::__private::call_plain(move || { #body }),
                #classify,
            )
        }
    } else if ret.is_some_and(contains_impl) {
        // The body's type can only be named through a closure's expected
        // signature (`impl Trait` is not allowed in a closure's `-> R`).
        let classify = classify(ret);
        let ret_ty = type_argument(ret);
        quote! {
            ::asdlc_metrics::__private::call::<#ret_ty>(&__ASDLC_SITE, move || { #body }, #classify)
        }
    } else {
        // Inline, so each function costs one closure and no generic
        // instantiation (this is most of the macros' build-time cost).
        let guard = Ident::new("asdlc_guard", Span::mixed_site());
        let value = Ident::new("asdlc_value", Span::mixed_site());
        let once = Ident::new("asdlc_once", Span::mixed_site());
        let outcome = outcome_of(ret, &quote!(&#value));
        let ret_ty = ret.map(|ty| quote!(-> #ty));
        // Moving `once` into the closure and dropping it there makes it an
        // `FnOnce`, so the body may return borrows of what it captured
        // (`&mut self.field`), as the function could.
        quote! {
            let mut #guard = ::asdlc_metrics::__private::Guard::start(&__ASDLC_SITE);
            let #once = ::asdlc_metrics::__private::CallOnce;
            #[allow(clippy::redundant_closure_call)]
            let #value = (move || #ret_ty {
                ::core::mem::drop(#once);
                #body
            })();
            #guard.set_outcome(#outcome);
            #value
        }
    };

    let absorbed = &spec.absorbed;
    quote! {
        #(#outer)*
        #vis #sig {
            #inner
            #(#[allow(unused_imports)] use #absorbed as _;)*
            #site
            #body
        }
    }
}

/// A never-taken `return` of the declared type at the top of the `async`
/// block holding the user's body. An `async` block takes its output type
/// from its first return site, so this makes the body's results coerce to
/// the declared type (`&Vec<u8>` to `&[u8]`) as they did in the `async fn`.
/// (`tracing::instrument` uses the same device.) Not needed for `()` and
/// impossible for `impl Trait`.
fn return_type_hint(ret: Option<&Type>) -> TokenStream {
    let Some(ty) = ret else {
        return TokenStream::new();
    };
    if contains_impl(ty) {
        return TokenStream::new();
    }
    quote_spanned! {ty.span()=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __asdlc_declared: #ty = loop {};
            return __asdlc_declared;
        }
    }
}

/// Whether `ty` mentions `impl Trait` (or `!`) anywhere.
fn contains_impl(ty: &Type) -> bool {
    infer_impls(ty) != *ty
}

/// The return type as a type argument: `()` when there is none, `impl
/// Trait` replaced by `_`. Naming it lets the compiler check the user's body
/// against it (coercions included), exactly as the original function did.
fn type_argument(ret: Option<&Type>) -> TokenStream {
    ret.map_or_else(|| quote!(()), |ty| infer_impls(ty).into_token_stream())
}

/// The closure that turns a reference to the returned value into an
/// `Outcome` (see `asdlc_metrics::__private::Probe` for the technique).
fn classify(ret: Option<&Type>) -> TokenStream {
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
/// type `&R`: by autoref specialisation (see `asdlc_metrics::__private::Probe`),
/// resolved where the type is concrete; `Ok` without a return type.
fn outcome_of(ret: Option<&Type>, reference: &TokenStream) -> TokenStream {
    if ret.is_none() {
        return quote!(::asdlc_metrics::__private::Outcome::Ok);
    }
    quote! {{
        use ::asdlc_metrics::__private::Classify as _;
        (&&&::asdlc_metrics::__private::Probe(#reference)).__asdlc_classify()
    }}
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
fn impl_future_output(ty: &Type) -> Option<&Type> {
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
fn boxed_future_output(ty: &Type) -> Option<&Type> {
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

#[cfg(test)]
mod tests;
