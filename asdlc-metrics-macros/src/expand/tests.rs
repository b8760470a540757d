//! Expansion-level checks of what the runtime cannot observe: several of
//! our attributes on one function become a single wrapper.

use quote::quote;

use super::attribute;
use crate::ast::Which;

/// Expands `#[timed]` on `item` and returns the output as text.
fn expand_timed(item: proc_macro2::TokenStream) -> String {
    attribute(Which::Timed, proc_macro2::TokenStream::new(), item).to_string()
}

#[test]
fn several_attributes_expand_into_one_wrapper() {
    for item in [
        quote! {
            #[counted]
            #[in_flight]
            #[asdlc_metrics::redis_op("xadd")]
            fn f() -> Result<u8, String> { Ok(1) }
        },
        quote! {
            #[in_flight(name = "asdlc_jobs_in_flight")]
            #[counted]
            async fn g() -> u8 { 1 }
        },
    ] {
        let out = expand_timed(item);
        assert_eq!(out.matches("static __ASDLC_SITE").count(), 1, "{out}");
        let wrappers = out.matches("__ASDLC_SITE . start ()").count()
            + out
                .matches(":: asdlc_metrics :: __private :: instrument")
                .count();
        assert_eq!(wrappers, 1, "{out}");
        // No attribute of ours is left to expand into a second wrapper.
        for name in ["counted", "in_flight", "redis_op"] {
            assert!(!out.contains(&format!("# [{name}")), "{name} left: {out}");
            assert!(!out.contains(&format!(":: {name} (")), "{name} left: {out}");
        }
        // The one call site records for every attribute: no position of
        // `site(function, module, timed, counted, in_flight, operation)` is
        // left empty.
        assert!(!out.contains("__private :: NONE"), "{out}");
    }
}

#[test]
fn the_same_attribute_twice_is_an_error_not_two_wrappers() {
    let out = expand_timed(quote! {
        #[timed]
        fn f() {}
    });
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("applied twice"), "{out}");
    assert!(!out.contains("__ASDLC_SITE"), "{out}");
}
