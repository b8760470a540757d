use asdlc_metrics::LabelValue;

#[derive(LabelValue)]
enum Status {
    Success,
    #[label(rename = "success")]
    Done,
}

fn main() {}
