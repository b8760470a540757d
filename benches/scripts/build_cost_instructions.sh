#!/usr/bin/env bash
# Build cost in instructions, which the machine's load does not move: the
# crates of build_cost.sh (500 small functions: plain, the expansion written
# by hand, with #[timed] #[counted]), each rebuilt alone after a `touch` —
# the incremental rebuild a developer pays per edit — with rustc run under
# valgrind's callgrind. Counts every instruction rustc executes, the proc
# macro's included (it runs inside rustc); not the linker, not cargo.
#
# BEFORE=<checkout of an older commit> adds that commit's macros as a row.
# Needs valgrind (`apt-get install valgrind`).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/target/build-cost"
GENERATE_ONLY=1 "$repo/benches/scripts/build_cost.sh"
export CARGO_TARGET_DIR="$work/target"

# The rustc command cargo runs for package $2 in directory $1.
rustc_command() {
  (cd "$1" && touch "$3" && cargo build -v -p "$2" 2>&1) |
    sed -n "s/^ *Running \`\(.*--crate-name ${2//-/_} .*\)\`$/\1/p" | tail -1
}

# Instructions of one incremental rebuild of package $2 (source $3) in $1.
count() {
  local dir=$1 package=$2 source=$3 command
  command="$(rustc_command "$dir" "$package" "$source")"
  (cd "$dir" && touch "$source" && eval "$command" >/dev/null 2>&1) # warm the session
  (cd "$dir" && touch "$source" &&
    eval "valgrind --tool=callgrind --callgrind-out-file=/dev/null $command" 2>&1) |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# A table row: name, instructions, and their ratio to $plain.
row() {
  printf '| %s | %d M | %.2f× |\n' "$1" $(($2 / 1000000)) "$(echo "$2 / $plain" | bc -l)"
}

# Rows for "name package source" triples; the first is the plain build the
# others are compared with.
rows() {
  plain=""
  for triple in "$@"; do
    read -r name package source <<<"$triple"
    n="$(count "$work" "$package" "$source")"
    plain="${plain:-$n}"
    row "$name" "$n"
  done
}

printf '| crate (500 functions) | instructions per rebuild | vs plain |\n|---|---:|---:|\n'
rows "plain gen-plain plain/src/lib.rs" "hand-expanded gen-hand hand/src/lib.rs" "asdlc-metrics gen-asdlc asdlc/src/lib.rs"
if [ -n "${BEFORE:-}" ]; then
  before="$(cd "$BEFORE" && pwd)"
  mkdir -p "$work/before/src"
  sed 's/gen-asdlc/gen-before/' "$work/asdlc/Cargo.toml" |
    sed "s|{ workspace = true }|{ path = \"$before/asdlc-metrics\", default-features = false }|" >"$work/before/Cargo.toml"
  printf '\n[workspace]\n' >>"$work/before/Cargo.toml"
  cp "$work/asdlc/src/lib.rs" "$work/before/src/lib.rs"
  cp "$work/Cargo.lock" "$work/before/"
  (cd "$work/before" && CARGO_TARGET_DIR="$work/target-before" cargo build -q 2>&1 | tail -5)
  n="$(CARGO_TARGET_DIR="$work/target-before" count "$work/before" gen-before src/lib.rs)"
  row "asdlc-metrics at $(git -C "$before" rev-parse --short HEAD)" "$n"
fi
# The same 500 functions as `async fn`, against their own plain build.
rows "async-plain gen-async-plain async-plain/src/lib.rs" "async-asdlc-metrics gen-async-asdlc async-asdlc/src/lib.rs"
# 500 functions of 17 lines, against their own plain build.
rows "large-plain gen-large-plain large-plain/src/lib.rs" "large-asdlc-metrics gen-large-asdlc large-asdlc/src/lib.rs"
# 500 `async fn`s with `?`, against their own plain build.
rows "try-plain gen-try-plain try-plain/src/lib.rs" "try-asdlc-metrics gen-try-asdlc try-asdlc/src/lib.rs"
