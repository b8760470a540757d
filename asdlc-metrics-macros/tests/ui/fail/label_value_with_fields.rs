use asdlc_metrics::LabelValue;

#[derive(LabelValue)]
enum Status {
    Ok,
    Failed(String),
}

fn main() {}
