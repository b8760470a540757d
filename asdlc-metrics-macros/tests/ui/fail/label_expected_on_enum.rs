use asdlc_metrics::LabelValue;

// `expected` is about one variant, not the whole type.
#[derive(LabelValue)]
#[label(expected)]
enum CacheError {
    Miss,
    Corrupt,
}

fn main() {}
