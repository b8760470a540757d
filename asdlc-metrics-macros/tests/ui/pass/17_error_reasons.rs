#![deny(warnings, clippy::pedantic)]

// An error enum with fields, a generic one and an empty one derive
// LabelValue (and with it ErrorReason) with no new warnings, and the
// expansion of an instrumented function returning them compiles under
// `#![no_implicit_prelude]`.

#[no_implicit_prelude]
mod bare {
    #[derive(::core::fmt::Debug, ::asdlc_metrics::LabelValue)]
    pub enum FetchError<E> {
        #[label(expected)]
        NotFound,
        Timeout { after_ms: u64 },
        #[label(rename = "backend")]
        Backend(E),
    }

    #[derive(::core::fmt::Debug, ::asdlc_metrics::LabelValue)]
    pub enum Never {}

    #[::asdlc_metrics::timed]
    #[::asdlc_metrics::counted]
    pub fn fetch(key: u8) -> ::core::result::Result<u8, FetchError<u16>> {
        match key {
            0 => ::core::result::Result::Err(FetchError::NotFound),
            1 => ::core::result::Result::Err(FetchError::Timeout { after_ms: 5 }),
            2 => ::core::result::Result::Err(FetchError::Backend(503)),
            _ => ::core::result::Result::Ok(key),
        }
    }

    #[::asdlc_metrics::counted]
    pub async fn never() -> ::core::result::Result<u8, Never> {
        ::core::result::Result::Ok(1)
    }
}

use asdlc_metrics::{ErrorReason, LabelValue};

fn main() {
    for key in 0..4 {
        let _ = bare::fetch(key);
    }
    drop(bare::never());
    assert_eq!(bare::FetchError::<u16>::REASONS, ["not_found", "timeout", "backend"]);
    assert_eq!(bare::FetchError::<u16>::NotFound.reason(), None);
    assert_eq!(bare::FetchError::Backend(1u16).reason(), Some(2));
    assert_eq!(bare::FetchError::Backend(1u16).label_value(), "backend");
    assert!(bare::Never::REASONS.is_empty());
}
