use asdlc_metrics::{counted, timed};

#[derive(Debug)]
struct MyError;

impl From<std::num::ParseIntError> for MyError {
    fn from(_: std::num::ParseIntError) -> Self {
        MyError
    }
}

#[timed]
#[counted]
fn parse(s: &str) -> Result<i64, MyError> {
    if s.is_empty() {
        return Ok(0);
    }
    let n: i64 = s.parse()?;
    Ok(n * 2)
}

#[counted]
fn opt(v: Option<&str>) -> Option<usize> {
    let v = v?;
    if v.is_empty() {
        return None;
    }
    Some(v.len())
}

#[timed]
async fn async_question(s: String) -> Result<i64, MyError> {
    let n: i64 = s.parse()?;
    if n < 0 {
        return Err(MyError);
    }
    Ok(n)
}

fn main() {
    assert_eq!(parse("").unwrap(), 0);
    assert_eq!(parse("2").unwrap(), 4);
    assert!(parse("x").is_err());
    assert_eq!(opt(Some("ab")), Some(2));
    drop(async_question("1".to_owned()));
}
