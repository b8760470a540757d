use asdlc_metrics::redis_op;

#[redis_op("get", name = "asdlc_x_seconds")]
async fn get() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
