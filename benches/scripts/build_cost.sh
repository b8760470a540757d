#!/usr/bin/env bash
# Build cost of the macros: a crate of 500 small functions, plain, with
# #[timed] #[counted] on each, and with #[autometrics] on each. Dependencies
# are built first; then each crate is rebuilt alone (touch + cargo build,
# debug profile, 5 runs with hyperfine) — the cost a developer pays per edit.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/target/build-cost"
n=500
rm -rf "$work"
mkdir -p "$work"

cat > "$work/Cargo.toml" <<TOML
[workspace]
members = ["plain", "asdlc", "autometrics"]
resolver = "3"

[workspace.dependencies]
asdlc-metrics = { path = "$repo/asdlc-metrics", default-features = false }
autometrics = { version = "3", default-features = false, features = ["prometheus-0_14"] }
TOML

gen() { # name, dependency line, use line, attributes
  local name=$1 dep=$2 use=$3 attrs=$4
  mkdir -p "$work/$name/src"
  printf '[package]\nname = "gen-%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\n' "$name" "$dep" > "$work/$name/Cargo.toml"
  {
    echo "$use"
    for i in $(seq 1 $n); do
      printf '%s\npub fn f%d(x: u64) -> Result<u64, String> {\n    if x == %d { return Err("unlucky".to_owned()); }\n    Ok(x.wrapping_mul(%d).rotate_left(7))\n}\n\n' "$attrs" "$i" "$i" "$i"
    done
  } > "$work/$name/src/lib.rs"
}
gen plain "" "" ""
gen asdlc 'asdlc-metrics = { workspace = true }' 'use asdlc_metrics::{counted, timed};' $'#[timed]\n#[counted]'
gen autometrics 'autometrics = { workspace = true }' 'use autometrics::autometrics;' '#[autometrics]'

cd "$work"
cargo build -q --workspace 2>&1 | tail -5
out="$work/results.md"
hyperfine --warmup 1 --runs 5 --export-markdown "$out" \
  --prepare 'touch plain/src/lib.rs' -n plain 'cargo build -q -p gen-plain' \
  --prepare 'touch asdlc/src/lib.rs' -n 'asdlc-metrics #[timed] #[counted]' 'cargo build -q -p gen-asdlc' \
  --prepare 'touch autometrics/src/lib.rs' -n 'autometrics #[autometrics]' 'cargo build -q -p gen-autometrics'
cat "$out"
