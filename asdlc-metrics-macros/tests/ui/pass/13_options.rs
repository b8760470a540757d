use asdlc_metrics::{counted, in_flight, redis_op, timed};

#[timed(name = "asdlc_import_duration_seconds", help = "Import time.", buckets = [0.5, 1, 2.5e1], labels(source = "s3", type = "bulk"))]
#[counted(name = "asdlc_imports_total", labels(source = "s3"))]
#[in_flight(name = "asdlc_imports_running", help = "Imports in progress.")]
fn import() {}

#[timed(buckets = [0.001, 0.01])]
fn fast() {}

#[redis_op]
async fn xadd() -> Result<String, std::io::Error> {
    Ok(String::new())
}

#[redis_op("get")]
async fn get_task() -> Result<Option<String>, std::io::Error> {
    Ok(None)
}

#[redis_op(operation = "hset")]
fn hset() -> Result<(), std::io::Error> {
    Ok(())
}

#[asdlc_metrics::timed]
#[asdlc_metrics::counted()]
fn qualified() {}

fn main() {
    import();
    fast();
    drop(xadd());
    drop(get_task());
    hset().unwrap();
    qualified();
}
