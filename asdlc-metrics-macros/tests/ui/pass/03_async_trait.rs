use asdlc_metrics::{counted, timed};

#[async_trait::async_trait]
trait Repo {
    async fn load(&self, id: u32) -> Result<String, std::io::Error>;
    async fn count(&mut self) -> usize;
}

struct Db(Vec<String>);

#[async_trait::async_trait]
impl Repo for Db {
    #[timed]
    #[counted]
    async fn load(&self, id: u32) -> Result<String, std::io::Error> {
        let found = self.0.get(id as usize).cloned();
        found.ok_or_else(|| std::io::Error::other("missing"))
    }

    #[counted]
    #[timed]
    async fn count(&mut self) -> usize {
        self.0.len()
    }
}

fn main() {
    let _db = Db(vec!["a".to_owned()]);
}
