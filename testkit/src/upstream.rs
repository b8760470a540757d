//! A stand-in HTTP upstream (in place of VictoriaMetrics) whose answers a
//! test controls: fixed, held until released, stalled or endless. The proxy
//! tests drive every upstream failure with it; the end-to-end tests hold a
//! request in flight with it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How a [`FakeUpstream`] answers every request.
#[derive(Clone)]
pub enum Reply {
    /// This status, content type and body (with `Content-Length`).
    Fixed(u16, &'static str, Vec<u8>),
    /// Reads the request, then never answers.
    Stall,
    /// Waits for a permit of the semaphore (one per request), then answers
    /// 200 with this JSON body.
    Gated(Arc<Semaphore>, &'static str),
    /// A chunked body that does not end (the stub stops by itself after
    /// 256 MiB or when the reader hangs up).
    Endless,
}

impl Reply {
    /// `status` with a JSON `body`.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Fixed(status, "application/json", body.as_bytes().to_vec())
    }

    /// A successful range query without series.
    pub fn empty_matrix() -> Reply {
        Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        )
    }
}

/// A stand-in upstream on a loopback port: a few lines of HTTP/1.1 with
/// keep-alive, recording every request target and counting connections.
/// It lives as long as the tokio runtime it was started on.
pub struct FakeUpstream {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
}

impl FakeUpstream {
    /// Listens on a free loopback port and answers every request with
    /// `reply`, on the current tokio runtime.
    ///
    /// # Panics
    /// When no loopback port can be bound, or outside a tokio runtime.
    pub async fn start(reply: Reply) -> FakeUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream = FakeUpstream {
            addr: listener.local_addr().expect("addr"),
            requests: Arc::default(),
            connections: Arc::default(),
        };
        let (requests, connections) = (upstream.requests.clone(), upstream.connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_nodelay(true);
                tokio::spawn(answer_connection(stream, reply.clone(), requests.clone()));
            }
        });
        upstream
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request targets received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }

    /// How many connections it has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn answer_connection(
    stream: tokio::net::TcpStream,
    reply: Reply,
    requests: Arc<Mutex<Vec<String>>>,
) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut line = String::new();
            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
        }
        let target = request_line.split(' ').nth(1).unwrap_or_default();
        requests.lock().expect("lock").push(target.to_owned());
        match &reply {
            Reply::Fixed(status, content_type, body) => {
                if !write_answer(&mut write, *status, content_type, body).await {
                    return;
                }
            }
            Reply::Gated(gate, body) => {
                let Ok(permit) = gate.acquire().await else {
                    return;
                };
                permit.forget();
                if !write_answer(&mut write, 200, "application/json", body.as_bytes()).await {
                    return;
                }
            }
            Reply::Stall => std::future::pending::<()>().await,
            Reply::Endless => {
                let head = "HTTP/1.1 200 Stub\r\nContent-Type: application/json\r\n\
                            Transfer-Encoding: chunked\r\n\r\n1\r\n[\r\n";
                if write.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("1000\r\n{}\r\n", "0,".repeat(2048));
                for _ in 0..65_536 {
                    if write.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                return;
            }
        }
    }
}

/// Writes one answer with `Content-Length`; `false` when the peer is gone.
async fn write_answer(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> bool {
    // One write: head and body in two would meet Nagle and delayed ACK,
    // 40 ms a request.
    let mut answer = format!(
        "HTTP/1.1 {status} Stub\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    write.write_all(&answer).await.is_ok()
}
