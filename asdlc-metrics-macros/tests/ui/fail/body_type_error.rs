use asdlc_metrics::{counted, timed};

#[timed]
#[counted]
fn parse(s: &str) -> Result<u32, String> {
    let n: u32 = s.len();
    Ok(n)
}

#[timed]
async fn wrong_return() -> u8 {
    "not a number"
}

fn main() {}
