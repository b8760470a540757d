# Sourced by the *_instructions.sh scripts (not run on its own).

# main_thread_instructions <binary> [args...]: the instructions valgrind's
# callgrind counts on the main thread of one run. Only the main thread: a
# thread that runs for a wall-clock time (the clock's calibration) would
# add a count that varies from run to run.
main_thread_instructions() {
  local out
  out=$(mktemp -d)
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/cg" \
    "$@" >/dev/null 2>&1
  sed -n 's/^summary: *//p' "$out/cg-01"
  rm -rf "$out"
}

# harness_crate <dir> <name> <dependency lines> [<more TOML>]: a scratch
# package in <dir> for a measuring binary, with this repository's
# Cargo.lock (the same dependency versions as the rows it is compared
# with), in a workspace of its own.
harness_crate() {
  local work="$1" name="$2" deps="$3" more="${4:-}"
  mkdir -p "$work/src"
  cp "$repo/Cargo.lock" "$work/"
  printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\n\n%s[workspace]\n' \
    "$name" "$deps" "$more" >"$work/Cargo.toml"
}

# Line tables in release builds, for callgrind's per-function split.
RELEASE_LINE_TABLES=$'[profile.release]\ndebug = 1\n\n'
