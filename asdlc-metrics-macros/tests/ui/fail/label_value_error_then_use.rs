use asdlc_metrics::LabelValue;

#[derive(LabelValue)]
enum Status {
    Success,
    #[label(rename = "")]
    Failed,
}

fn main() {
    // Every item of the derive is still there: the only error is the value.
    println!("{}", Status::Success.label_value());
    println!("{:?}", Status::LABEL_VALUES);
    let _ = Status::Failed;
}
