use asdlc_metrics::{counted, timed};

trait Job {
    fn id(&self) -> u32;

    #[counted]
    fn describe(&self) -> String {
        format!("job {}", self.id())
    }

    #[timed]
    async fn run(&self) -> Result<u32, String> {
        Ok(self.id())
    }
}

struct J;

impl Job for J {
    fn id(&self) -> u32 {
        7
    }
}

fn main() {
    assert_eq!(J.describe(), "job 7");
    drop(J.run());
}
