use asdlc_metrics::timed;

trait Store {
    #[timed]
    fn get(&self) -> u8;
}

fn main() {}
