use asdlc_metrics::{counted, timed};

/// # Safety
/// `p` must be valid.
#[counted]
unsafe fn deref(p: *const u8) -> u8 {
    unsafe { *p }
}

#[timed]
pub extern "C" fn exported(x: i32) -> i32 {
    x * 2
}

#[counted]
async unsafe fn async_unsafe(p: *const u8) -> u8 {
    unsafe { *p }
}

fn main() {
    let b = 7u8;
    assert_eq!(unsafe { deref(&b) }, 7);
    assert_eq!(exported(2), 4);
    drop(unsafe { async_unsafe(&b) });
}
