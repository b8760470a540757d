#![deny(warnings)]

#[no_implicit_prelude]
mod bare {
    #[::asdlc_metrics::timed]
    #[::asdlc_metrics::counted]
    pub fn add(a: u32, b: u32) -> ::core::result::Result<u32, ()> {
        ::core::result::Result::Ok(a + b)
    }

    #[::asdlc_metrics::in_flight]
    pub async fn nothing() -> ::core::option::Option<u8> {
        ::core::option::Option::None
    }
}

fn main() {
    assert_eq!(bare::add(1, 2), Ok(3));
    drop(bare::nothing());
}
