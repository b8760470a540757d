//! The `static` call site every expansion declares: what to record,
//! resolved by the runtime on the first call.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned as _;

use crate::ast::{Buckets, FamilyArgs, Spec};

/// The call site of an expansion.
pub enum Site {
    /// Attributes without options (the common case): the function's name
    /// and the `kinds` of `site_of`, spliced by the caller into
    /// `static __ASDLC_SITE: Site = site_of(function, module, kinds);`
    /// (one `quote!` for the prelude and the site: splicing a token stream
    /// into another is a call into the compiler).
    Default { function: Literal, kinds: Literal },
    /// `static __ASDLC_SITE: Site = site(function, module, ..);` with the
    /// options spelled out.
    Options(TokenStream),
}

/// The call site for `spec` on function `function` (its name without `r#`).
pub fn site(spec: &Spec, function: &str) -> Site {
    if let Some(kinds) = default_kinds(spec) {
        return Site::Default {
            function: Literal::string(function),
            kinds: Literal::u8_unsuffixed(kinds),
        };
    }
    let timed = metric_spec(
        spec.timed.as_ref().map(|t| &t.family),
        spec.timed.as_ref().and_then(|t| t.buckets.as_ref()),
    );
    let counted = metric_spec(spec.counted.as_ref(), None);
    let in_flight = metric_spec(spec.in_flight.as_ref(), None);
    let redis = match &spec.redis {
        None => quote!(::asdlc_metrics::__private::NO_OPERATION),
        Some(Some(op)) => quote!(::asdlc_metrics::__private::some(#op)),
        Some(None) => quote!(::asdlc_metrics::__private::some(#function)),
    };
    // Positional: on small functions the site was most of the tokens
    // emitted, and rustc pays per token.
    let latency_check = spec.timed.as_ref().and_then(|t| {
        let objective = t.family.objective.as_ref()?;
        Some(latency_check(objective, t.buckets.as_ref()))
    });
    Site::Options(quote! {
        static __ASDLC_SITE: ::asdlc_metrics::__private::Site = ::asdlc_metrics::__private::site(
            #function, ::core::module_path!(), #timed, #counted, #in_flight, #redis,
        );
        #latency_check
    })
}

/// The `kinds` argument of `site_of` when every attribute on the function
/// is written without options and none is `#[redis_op]`.
fn default_kinds(spec: &Spec) -> Option<u8> {
    if spec.redis.is_some() || spec.timed.as_ref().is_some_and(|t| t.buckets.is_some()) {
        return None;
    }
    let mut kinds = 0;
    for (args, kind) in [
        (spec.timed.as_ref().map(|t| &t.family), 1),
        (spec.counted.as_ref(), 2),
        (spec.in_flight.as_ref(), 4),
    ] {
        match args {
            None => {}
            Some(args) if is_default(args) => kinds |= kind,
            Some(_) => return None,
        }
    }
    Some(kinds)
}

fn is_default(args: &FamilyArgs) -> bool {
    args.name.is_none() && args.help.is_none() && args.labels.is_empty() && args.objective.is_none()
}

/// A compile-time check that the latency threshold of `objective` is one of
/// the histogram's bucket bounds (a share of calls under a bound the
/// histogram lacks cannot be read from it), reported at the `objective`
/// argument with the bounds it could use.
fn latency_check(objective: &syn::Path, buckets: Option<&Buckets>) -> TokenStream {
    let (bounds, listed) = match buckets {
        Some(buckets) => {
            let lits = buckets.bounds.iter().map(|b| &b.lit);
            let listed: Vec<String> = buckets.bounds.iter().map(|b| b.value.to_string()).collect();
            (quote!(&[#(#lits),*]), listed)
        }
        None => (
            quote!(::asdlc_metrics::__private::DEFAULT_BUCKETS),
            asdlc_metrics_naming::DEFAULT_BUCKETS
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
    };
    let message = format!(
        "the objective's latency threshold must be one of this histogram's bucket bounds: {}",
        listed.join(", ")
    );
    quote_spanned! {objective.span()=>
        const _: () = ::core::assert!(#objective.latency_fits(#bounds), #message);
    }
}

/// The `Option<MetricSpec>` of one attribute (`None` when absent).
fn metric_spec(args: Option<&FamilyArgs>, buckets: Option<&Buckets>) -> TokenStream {
    let Some(args) = args else {
        return quote!(::asdlc_metrics::__private::NONE);
    };
    if is_default(args) && buckets.is_none() {
        return quote!(::asdlc_metrics::__private::DEFAULT);
    }
    let option_str = |lit: Option<&LitStr>| match lit {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let name = option_str(args.name.as_ref());
    let help = option_str(args.help.as_ref());
    let buckets = match buckets {
        Some(buckets) => {
            let lits = buckets.bounds.iter().map(|b| &b.lit);
            quote!(::core::option::Option::Some(&[#(#lits),*]))
        }
        None => quote!(::core::option::Option::None),
    };
    let labels = args.labels.iter().map(|label| {
        let key = &label.name.text;
        let value = &label.value;
        quote!((#key, #value))
    });
    let objective = match &args.objective {
        Some(path) => quote!(::core::option::Option::Some(&#path)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::asdlc_metrics::__private::some(::asdlc_metrics::__private::MetricSpec {
            name: #name,
            help: #help,
            buckets: #buckets,
            labels: &[#(#labels),*],
            objective: #objective,
        })
    }
}
