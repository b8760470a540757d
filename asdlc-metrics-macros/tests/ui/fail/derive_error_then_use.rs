use asdlc_metrics::{Counter, Metrics, Registry};

#[derive(Metrics)]
struct M {
    /// A counter must end in _total.
    jobs: Counter,
}

fn main() {
    // Every item of the derive is still there: the only error is the name.
    let registry = Registry::new();
    let m = M::register(&registry).unwrap();
    m.jobs.inc();
    M::detached().jobs.inc();
    M::global().jobs.inc();
    for name in M::NAMES {
        println!("{name}");
    }
}
