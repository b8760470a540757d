#![deny(warnings)]
#![allow(dead_code, non_camel_case_types)]

// User code that shadows prelude and std names the generated code might use.
mod shadows {
    use asdlc_metrics::{counted, in_flight, timed};

    type Result<T> = core::result::Result<T, ()>;
    struct Option;
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    struct Box;
    struct Vec;
    struct String;
    mod std {}
    mod alloc {}
    fn drop() {}
    fn call() {}
    trait Future {}
    struct Instant;

    #[timed]
    #[counted]
    pub fn shadowed(x: u8) -> Result<u8> {
        if x == 0 { core::result::Result::Err(()) } else { core::result::Result::Ok(x) }
    }

    #[in_flight]
    pub async fn shadowed_async() -> Result<()> {
        core::result::Result::Ok(())
    }
}

fn main() {
    assert!(shadows::shadowed(1).is_ok());
    drop(shadows::shadowed_async());
}
