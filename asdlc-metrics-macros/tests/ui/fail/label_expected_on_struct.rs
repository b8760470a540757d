use asdlc_metrics::LabelValue;

// A struct has no variants to name reasons by.
#[derive(Debug, LabelValue)]
#[label(expected)]
struct NotFound;

fn main() {}
