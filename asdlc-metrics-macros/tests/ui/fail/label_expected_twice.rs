use asdlc_metrics::LabelValue;

#[derive(Debug, LabelValue)]
enum FetchError {
    #[label(expected)]
    #[label(expected)]
    NotFound,
    Timeout,
}

fn main() {}
