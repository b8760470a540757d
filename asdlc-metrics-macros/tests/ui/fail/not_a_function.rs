use asdlc_metrics::timed;

#[timed]
struct Config {
    port: u16,
}

fn main() {}
