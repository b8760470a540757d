#!/usr/bin/env bash
# Instructions per call of `#[counted]`, `#[timed]` and both, outside and
# inside a trace (a `tracing` span with a `trace_id` field, `TraceIdLayer`
# installed: every traced call keeps an exemplar per family), counted by
# valgrind (callgrind), so the figure does not move with the machine's load
# as the `function_call(_traced)` benchmarks' times do. Each row runs 200k
# and 400k calls; the difference / 200k is one call without the start-up.
# Only the main thread is counted, after a 1 s wait for the clock's
# calibration (its thread runs for a wall-clock time; see
# middleware_instructions.sh).
#
#   benches/scripts/traced_function_instructions.sh
#   BEFORE=/path/to/other/checkout benches/scripts/traced_function_instructions.sh
#
# With BEFORE, the same rows for the runtime crate of that checkout, built
# in its own target directory. Needs valgrind.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=callgrind.sh
. "$repo/benches/scripts/callgrind.sh"

build() { # <checkout> <work dir>
  local checkout="$1" work="$2"
  harness_crate "$work" traced-function-instructions "$(cat <<TOML
asdlc-metrics = { path = "$checkout/asdlc-metrics", default-features = false }
tracing = "0.1"
tracing-subscriber = { version = "0.3", default-features = false, features = ["registry", "std"] }
TOML
  )" "$RELEASE_LINE_TABLES"
  cat > "$work/src/main.rs" <<'RUST'
use std::hint::black_box;

use asdlc_metrics::{counted, timed};
use tracing_subscriber::layer::SubscriberExt as _;

#[inline(always)]
fn work(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
}

#[inline(never)]
#[counted]
fn with_counted(x: u64) -> u64 {
    work(x)
}

#[inline(never)]
#[timed]
fn with_timed(x: u64) -> u64 {
    work(x)
}

#[inline(never)]
#[timed]
#[counted]
fn with_both(x: u64) -> u64 {
    work(x)
}

fn run(f: fn(u64) -> u64, n: u64) -> u64 {
    let mut x = 0u64;
    for _ in 0..n {
        x = f(black_box(x));
    }
    x
}

fn main() {
    let mut args = std::env::args().skip(1);
    let row = args.next().expect("row");
    let n: u64 = args.next().expect("calls").parse().expect("a number");
    let traced = args.next().as_deref() == Some("traced");
    let f = match row.as_str() {
        "counted" => with_counted,
        "timed" => with_timed,
        "timed+counted" => with_both,
        other => panic!("unknown row {other}"),
    };
    // Each function's series resolved, and the clock calibrated (see the
    // header), before the counted calls.
    run(f, 1);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let subscriber =
        tracing_subscriber::registry().with(asdlc_metrics::exemplar::TraceIdLayer::new());
    let _default = tracing::subscriber::set_default(subscriber);
    let span = tracing::info_span!("traced", trace_id = "4bf92f3577b34da6a3ce929d0e0e4736");
    let _entered = traced.then(|| span.enter());
    assert_eq!(asdlc_metrics::exemplar::TraceContext::current().is_some(), traced);
    black_box(run(f, n));
}
RUST
  (cd "$work" && CARGO_TARGET_DIR="$work/target" cargo build -q --release)
}

count() { # <binary>
  local bin="$1"
  instructions() { # <row> <calls> [traced]: instructions of the main thread
    main_thread_instructions "$bin" "$@"
  }
  printf '  %-16s %10s %10s %10s\n' row untraced traced difference
  for row in counted timed timed+counted; do
    local per=()
    for mode in untraced traced; do
      a=$(instructions "$row" 200000 $mode)
      b=$(instructions "$row" 400000 $mode)
      per+=($(( (b - a) / 200000 )))
    done
    printf '  %-16s %10s %10s %+10d\n' "$row" "${per[0]}" "${per[1]}" $(( per[1] - per[0] ))
  done
}

build "$repo" "$repo/target/traced-function-instructions"
echo "instructions/call, this checkout:"
count "$repo/target/traced-function-instructions/target/release/traced-function-instructions"
if [ -n "${BEFORE:-}" ]; then
  build "$BEFORE" "$repo/target/traced-function-instructions-before"
  echo "instructions/call, $BEFORE:"
  count "$repo/target/traced-function-instructions-before/target/release/traced-function-instructions"
fi
