#!/usr/bin/env bash
# Reproduces every number in BENCHMARKS.md, in one run on one machine:
# the criterion benchmarks (function instrumentation, middleware, scrape,
# query proxy) with ratios, wrk against the orchestrator with and without
# MetricsLayer, and the build cost of the macros.
# Needs wrk, hyperfine, victoria-metrics (apt-get install -y wrk hyperfine victoria-metrics).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## Machine"
echo
echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), $(rustc --version)"
echo
cargo bench -q -p asdlc-benches 2>&1 | grep -E '^scrape-size|^series-bytes|^proxy' || true
echo
python3 benches/report.py
echo "## wrk"
echo
benches/scripts/wrk.sh
echo
echo "## Build cost"
echo
benches/scripts/build_cost.sh | sed -n '/^| Command/,$p'
