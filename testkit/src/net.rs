//! Loopback ports.

use std::net::{SocketAddr, TcpListener};

/// A loopback port that was free a moment ago (bind to port 0, read it,
/// release it). Good enough for starting child processes in tests.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// `127.0.0.1:<port>`.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
