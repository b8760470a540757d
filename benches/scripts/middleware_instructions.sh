#!/usr/bin/env bash
# Instructions per request through MetricsLayer, counted by valgrind
# (callgrind), so the figure does not move with the machine's load as the
# middleware benchmark's times do: one axum route called in process
# (`oneshot`, no network), without the layer, with it, and with it and a
# W3C `traceparent` header. Each row runs 20k and 40k requests; the
# difference / 20k is one request without the start-up. Only the main
# thread is counted, after the clock's calibration is done: that thread runs
# for a wall-clock time, so its instructions vary from run to run (by ~200
# per request), and so did the main thread's clock reads while it ran.
#
# The rows run twice: requests with no other header (as this script always
# did), and with a `host` header, as every HTTP/1.1 request has. Without
# any header the layer's `traceparent` lookup finds an empty map and
# returns at once, so the first set charges hashing the header's name to
# the trace; with `host` every row pays it, as a server's requests do.
#
#   benches/scripts/middleware_instructions.sh              # this checkout
#   BEFORE=/path/to/other/checkout benches/scripts/middleware_instructions.sh
#
# With BEFORE, the same rows for the runtime crate of that checkout (e.g. a
# `git worktree add` of an older commit), built in its own target directory.
# Needs valgrind.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=callgrind.sh
. "$repo/benches/scripts/callgrind.sh"

build() { # <checkout> <work dir>: builds the harness against <checkout>'s runtime crate
  local checkout="$1" work="$2"
  harness_crate "$work" middleware-instructions "$(cat <<TOML
asdlc-metrics = { path = "$checkout/asdlc-metrics", default-features = false, features = ["axum"] }
axum = { version = "0.8", default-features = false, features = ["tokio", "http1", "matched-path"] }
tokio = { version = "1", features = ["rt"] }
tower = { version = "0.5", features = ["util"] }
TOML
  )" "$RELEASE_LINE_TABLES"
  cat > "$work/src/main.rs" <<'RUST'
use std::hint::black_box;

use asdlc_metrics::middleware::MetricsLayer;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;

fn main() {
    let mut args = std::env::args().skip(1);
    let row = args.next().expect("row");
    let n: u64 = args.next().expect("requests").parse().expect("a number");
    let host = args.next().as_deref() == Some("host");
    let app = Router::new().route("/api/tasks/{id}", get(|| async { "ok" }));
    let (app, traceparent) = match row.as_str() {
        "plain" => (app, false),
        "asdlc_metrics" => (app.layer(MetricsLayer::new()), false),
        "asdlc_metrics+traceparent" => (app.layer(MetricsLayer::new()), true),
        "plain+traceparent" => (app, true),
        other => panic!("unknown row {other}"),
    };
    // The layer starts calibrating its clock in the background (at most
    // ~200 ms of wall time); until that is done stamps come from the OS
    // clock, which costs more instructions. Waiting here (a sleep costs the
    // main thread nothing) keeps the switch out of the counted requests,
    // which otherwise moved a row by ~80 between runs.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        for _ in 0..n {
            let mut request = Request::get("/api/tasks/42");
            if host {
                request = request.header("host", "localhost:8080");
            }
            if traceparent {
                request = request.header(
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                );
            }
            let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await;
            black_box(response.unwrap());
        }
    });
}
RUST
  (cd "$work" && CARGO_TARGET_DIR="$work/target" cargo build -q --release)
}

count() { # <binary>: prints a row per variant
  local bin="$1"
  instructions() { # <row> <requests> [host]: instructions of the main thread
    main_thread_instructions "$bin" "$@"
  }
  for headers in "" host; do
    echo "  requests with ${headers:-no other} header:"
    declare -A per
    for row in plain asdlc_metrics plain+traceparent asdlc_metrics+traceparent; do
      a=$(instructions "$row" 20000 $headers)
      b=$(instructions "$row" 40000 $headers)
      per[$row]=$(( (b - a) / 20000 ))
      printf '    %-26s %s\n' "$row" "${per[$row]}"
    done
    local bare=$(( per[asdlc_metrics] - per[plain] ))
    local traced=$(( per[asdlc_metrics+traceparent] - per[plain+traceparent] ))
    printf '    the layer, no trace context  %s\n' "$bare"
    printf '    the layer, with traceparent  %s (%+d)\n' "$traced" $(( traced - bare ))
  done
}

build "$repo" "$repo/target/middleware-instructions"
echo "instructions/request, this checkout:"
count "$repo/target/middleware-instructions/target/release/middleware-instructions"
if [ -n "${BEFORE:-}" ]; then
  build "$BEFORE" "$repo/target/middleware-instructions-before"
  echo "instructions/request, $BEFORE:"
  count "$repo/target/middleware-instructions-before/target/release/middleware-instructions"
fi
