use asdlc_metrics::LabelValue;

// Two variants would count into one reason series.
#[derive(Debug, LabelValue)]
enum FetchError {
    Timeout { after_ms: u64 },
    #[label(rename = "timeout")]
    Deadline(u64),
    #[label(expected)]
    NotFound,
}

fn main() {}
