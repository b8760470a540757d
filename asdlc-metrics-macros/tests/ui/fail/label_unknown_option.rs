use asdlc_metrics::LabelValue;

#[derive(Debug, LabelValue)]
enum FetchError {
    #[label(ok)]
    NotFound,
    Timeout,
}

fn main() {}
