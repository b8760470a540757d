#!/usr/bin/env bash
# Instructions per call of failure reasons, counted by valgrind (callgrind),
# so the figure does not move with the machine's load as times do: the
# `function_result` rows of benches/functions.rs (#[counted] on a function
# whose error enum derives LabelValue, against the same enum without the
# derive; ok and error path) in a small release binary. Each row runs
# 1M and 2M calls; the difference / 1M is the cost of one call, without the
# start-up. Needs valgrind.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=callgrind.sh
. "$repo/benches/scripts/callgrind.sh"
work="$repo/target/reason-instructions"
harness_crate "$work" reason-instructions "$(cat <<TOML
asdlc-metrics = { path = "$repo/asdlc-metrics", default-features = false }
TOML
)"
cat > "$work/src/main.rs" <<'RUST'
use std::hint::black_box;

use asdlc_metrics::{LabelValue, counted};

#[inline(always)]
fn work(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
}

#[derive(Debug, LabelValue)]
#[allow(dead_code)]
enum ReasonError { #[label(expected)] Missing, Timeout, Backend(u32) }

#[derive(Debug)]
#[allow(dead_code)]
enum PlainError { Missing, Timeout, Backend(u32) }

#[inline(never)]
fn plain(x: u64) -> Result<u64, PlainError> {
    if x == u64::MAX { return Err(PlainError::Timeout); }
    Ok(work(x))
}
#[inline(never)]
#[counted]
fn plain_error_ok(x: u64) -> Result<u64, PlainError> {
    if x == u64::MAX { return Err(PlainError::Timeout); }
    Ok(work(x))
}
#[inline(never)]
#[counted]
fn enum_error_ok(x: u64) -> Result<u64, ReasonError> {
    if x == u64::MAX { return Err(ReasonError::Timeout); }
    Ok(work(x))
}
#[inline(never)]
#[counted]
fn plain_error_err(x: u64) -> Result<u64, PlainError> {
    if x == u64::MAX { return Ok(0); }
    Err(PlainError::Backend(work(x) as u32))
}
#[inline(never)]
#[counted]
fn enum_error_err(x: u64) -> Result<u64, ReasonError> {
    if x == u64::MAX { return Ok(0); }
    Err(ReasonError::Backend(work(x) as u32))
}

fn run<E>(f: fn(u64) -> Result<u64, E>, n: u64) -> u64 {
    let mut x = 0u64;
    for _ in 0..n {
        x = match f(black_box(x)) { Ok(v) => v, Err(_) => x.wrapping_add(1) };
    }
    x
}

fn main() {
    let mut args = std::env::args().skip(1);
    let row = args.next().expect("row");
    let n: u64 = args.next().expect("calls").parse().expect("a number");
    black_box(match row.as_str() {
        "plain" => run(plain, n),
        "ok/plain_error" => run(plain_error_ok, n),
        "ok/enum_error" => run(enum_error_ok, n),
        "err/plain_error" => run(plain_error_err, n),
        "err/enum_error" => run(enum_error_err, n),
        other => panic!("unknown row {other}"),
    });
}
RUST
export CARGO_TARGET_DIR="$work/target"
(cd "$work" && cargo build -q --release)
bin="$CARGO_TARGET_DIR/release/reason-instructions"
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : *//p'
}
printf '%-16s %s\n' row 'instructions/call'
for row in plain ok/plain_error ok/enum_error err/plain_error err/enum_error; do
  a=$(instructions "$row" 1000000)
  b=$(instructions "$row" 2000000)
  printf '%-16s %s\n' "$row" $(( (b - a) / 1000000 ))
done
