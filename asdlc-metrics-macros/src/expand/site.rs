//! The `static` call site every expansion declares: what to record,
//! resolved by the runtime on the first call. Paths start at `__asdlc`,
//! the alias of `::asdlc_metrics::__private` the expansion declares.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::ast::{Buckets, FamilyArgs, Spec};

/// `static __ASDLC_SITE: Site = site(function, module, ..);` for `spec` on
/// function `function` (its name without `r#`).
pub fn site(spec: &Spec, function: &str) -> TokenStream {
    let timed = metric_spec(
        spec.timed.as_ref().map(|t| &t.family),
        spec.timed.as_ref().and_then(|t| t.buckets.as_ref()),
    );
    let counted = metric_spec(spec.counted.as_ref(), None);
    let in_flight = metric_spec(spec.in_flight.as_ref(), None);
    let redis = match &spec.redis {
        None => quote!(__asdlc::NO_OPERATION),
        Some(Some(op)) => quote!(__asdlc::some(#op)),
        Some(None) => quote!(__asdlc::some(#function)),
    };
    // Positional and through the `__asdlc` alias: on small functions the
    // site was most of the tokens emitted, and rustc pays per token.
    quote! {
        static __ASDLC_SITE: __asdlc::Site = __asdlc::site(
            #function, ::core::module_path!(), #timed, #counted, #in_flight, #redis,
        );
    }
}

/// The `Option<MetricSpec>` of one attribute (`None` when absent).
fn metric_spec(args: Option<&FamilyArgs>, buckets: Option<&Buckets>) -> TokenStream {
    let Some(args) = args else {
        return quote!(__asdlc::NONE);
    };
    if args.name.is_none() && args.help.is_none() && buckets.is_none() && args.labels.is_empty() {
        return quote!(__asdlc::DEFAULT);
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
    quote! {
        __asdlc::some(__asdlc::MetricSpec {
            name: #name,
            help: #help,
            buckets: #buckets,
            labels: &[#(#labels),*],
        })
    }
}
