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
