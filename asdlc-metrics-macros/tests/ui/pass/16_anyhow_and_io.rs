use asdlc_metrics::{counted, timed};

#[timed]
fn read() -> std::io::Result<Vec<u8>> {
    std::fs::read("/definitely/not/here")
}

#[counted]
fn checked(x: i32) -> anyhow::Result<i32> {
    anyhow::ensure!(x >= 0, "negative");
    Ok(x)
}

fn main() {
    assert!(read().is_err());
    assert!(checked(-1).is_err());
    assert_eq!(checked(1).unwrap(), 1);
}
