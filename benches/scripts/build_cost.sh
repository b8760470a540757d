#!/usr/bin/env bash
# Build cost of the macros: a crate of 500 small functions, plain, with
# #[timed] #[counted] on each, the same expansion written by hand (the lower
# bound: what the generated code costs without running the macro), and with
# #[autometrics] on each. Dependencies are built first; then each crate is
# rebuilt alone (touch + cargo build, debug profile, 5 runs with hyperfine)
# — the cost a developer pays per edit. RUNS=<n> changes the 5 runs.
#
# BEFORE=<checkout of an older commit> adds that commit's macros as a row,
# measured in the same run (e.g. `git worktree add /tmp/base <rev>`).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/target/build-cost"
n=500
rm -rf "$work"
mkdir -p "$work"

cat > "$work/Cargo.toml" <<TOML
[workspace]
members = ["plain", "asdlc", "hand", "autometrics", "async-plain", "async-asdlc", "large-plain", "large-asdlc", "try-plain", "try-asdlc"]
exclude = ["before"]
resolver = "3"

[workspace.dependencies]
asdlc-metrics = { path = "$repo/asdlc-metrics", default-features = false }
autometrics = { version = "3", default-features = false, features = ["prometheus-0_14"] }
TOML

# One function $1 of each shape, without attributes.
small_fn() { # the goal's: three lines
  printf 'pub fn f%d(x: u64) -> Result<u64, String> {\n    if x == %d { return Err("unlucky".to_owned()); }\n    Ok(x.wrapping_mul(%d).rotate_left(7))\n}\n\n' "$1" "$1" "$1"
}
small_async_fn() { # the same as `async fn`
  printf 'pub async fn f%d(x: u64) -> Result<u64, String> {\n    if x == %d { return Err("unlucky".to_owned()); }\n    Ok(x.wrapping_mul(%d).rotate_left(7))\n}\n\n' "$1" "$1" "$1"
}
try_fn() { # an `async fn` whose body uses `?`, as most axum handlers do (the body then goes into an `async` block)
  printf 'pub async fn f%d(x: &str) -> Result<u64, std::num::ParseIntError> {\n    let v: u64 = x.parse()?;\n    Ok(v.wrapping_mul(%d))\n}\n\n' "$1" "$1"
}
large_fn() { # a more usual size: 17 lines, a guard clause, a loop, a match
  cat <<RUST
pub fn f$1(items: &[u64], limit: usize) -> Result<Vec<u64>, String> {
    if items.is_empty() {
        return Err(String::from("no items"));
    }
    let mut out = Vec::with_capacity(items.len().min(limit));
    for (n, item) in items.iter().enumerate() {
        if n >= limit {
            break;
        }
        let v = match item % 3 {
            0 => item.wrapping_mul($1),
            1 => item.rotate_left(7) ^ $1,
            _ => item.saturating_sub($1),
        };
        out.push(v);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

RUST
}

gen() { # name, dependency line, use line, attributes, function shape
  local name=$1 dep=$2 use=$3 attrs=$4 shape=$5
  mkdir -p "$work/$name/src"
  printf '[package]\nname = "gen-%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\n' "$name" "$dep" > "$work/$name/Cargo.toml"
  {
    echo "$use"
    for i in $(seq 1 $n); do
      printf '%s\n' "$attrs"
      "$shape" "$i"
    done
  } > "$work/$name/src/lib.rs"
}
ours='asdlc-metrics = { workspace = true }'
ours_use='use asdlc_metrics::{counted, timed};'
ours_attrs=$'#[timed]\n#[counted]'
gen plain "" "" "" small_fn
gen asdlc "$ours" "$ours_use" "$ours_attrs" small_fn
gen autometrics 'autometrics = { workspace = true }' 'use autometrics::autometrics;' '#[autometrics]' small_fn
# The other shapes, counted by build_cost_instructions.sh against their own
# plain build.
gen async-plain "" "" "" small_async_fn
gen async-asdlc "$ours" "$ours_use" "$ours_attrs" small_async_fn
gen large-plain "" "" "" large_fn
gen large-asdlc "$ours" "$ours_use" "$ours_attrs" large_fn
gen try-plain "" "" "" try_fn
gen try-asdlc "$ours" "$ours_use" "$ours_attrs" try_fn

# What `#[timed] #[counted]` expands to on these functions, written by hand.
mkdir -p "$work/hand/src"
printf '[package]\nname = "gen-hand"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\nasdlc-metrics = { workspace = true }\n' > "$work/hand/Cargo.toml"
for i in $(seq 1 $n); do
  cat <<RUST
pub fn f$i(x: u64) -> Result<u64, String> {
    #[allow(unused_imports)]
    use counted as _;
    static __ASDLC_SITE: ::asdlc_metrics::__private::Site = ::asdlc_metrics::__private::site_of("f$i", ::core::module_path!(), 3);
    let guard = __ASDLC_SITE.start();
    let value: Result<u64, String> = 'body: {
        if x == $i { break 'body Err("unlucky".to_owned()); }
        Ok(x.wrapping_mul($i).rotate_left(7))
    };
    guard.finish(::asdlc_metrics::__private::probe(&value).__asdlc_classify());
    value
}

RUST
done > "$work/hand/src/lib.rs.body"
{ echo 'use asdlc_metrics::counted;'; cat "$work/hand/src/lib.rs.body"; } > "$work/hand/src/lib.rs"
rm "$work/hand/src/lib.rs.body"

export CARGO_TARGET_DIR="$work/target"
cd "$work"
cargo build -q --workspace 2>&1 | tail -5
[ -n "${GENERATE_ONLY:-}" ] && exit 0
runs=(
  --prepare 'touch plain/src/lib.rs' -n plain 'cargo build -q -p gen-plain'
  --prepare 'touch hand/src/lib.rs' -n 'hand-expanded (lower bound)' 'cargo build -q -p gen-hand'
  --prepare 'touch asdlc/src/lib.rs' -n 'asdlc-metrics #[timed] #[counted]' 'cargo build -q -p gen-asdlc'
)
if [ -n "${BEFORE:-}" ]; then
  before="$(cd "$BEFORE" && pwd)"
  mkdir -p before/src
  sed 's/gen-asdlc/gen-before/' asdlc/Cargo.toml | sed "s|{ workspace = true }|{ path = \"$before/asdlc-metrics\", default-features = false }|" > before/Cargo.toml
  printf '\n[workspace]\n' >> before/Cargo.toml
  cp asdlc/src/lib.rs before/src/lib.rs
  cp Cargo.lock before/ # the same dependency versions as the other rows
  (cd before && cargo build -q 2>&1 | tail -5)
  runs+=(--prepare 'touch before/src/lib.rs' -n "asdlc-metrics #[timed] #[counted], before ($(git -C "$before" rev-parse --short HEAD))" 'cargo build -q --manifest-path before/Cargo.toml')
fi
runs+=(--prepare 'touch autometrics/src/lib.rs' -n 'autometrics #[autometrics]' 'cargo build -q -p gen-autometrics')
out="$work/results.md"
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$out" "${runs[@]}"
cat "$out"
