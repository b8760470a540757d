use asdlc_metrics::redis_op;

#[redis_op("")]
async fn get() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
