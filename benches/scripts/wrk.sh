#!/usr/bin/env bash
# Requests/s of the orchestrator example (release build) under wrk on
# loopback, with MetricsLayer and without it (ASDLC_METRICS_LAYER=off), on
# GET /health and GET /api/tasks/{id} (Redis is left down, so the task route
# answers 503 from the handler: what is measured is HTTP + instrumentation).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
cargo build -q --release --example orchestrator
bin="$repo/target/release/examples/orchestrator"
duration="${WRK_DURATION:-10s}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() { # layer(on|off)
  local layer=$1 port
  port=$(free_port)
  PORT=$port HOST=127.0.0.1 REDIS_URL=redis://127.0.0.1:1 VICTORIAMETRICS_URL=http://127.0.0.1:1 \
    ASDLC_METRICS_LAYER=$layer RUST_LOG=error "$bin" > /dev/null &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.05; done
  for path in /health /api/tasks/42; do
    wrk -t1 -c32 -d"$duration" "http://127.0.0.1:$port$path" > /tmp/wrk.out
    rps=$(awk '/Requests\/sec/ {print $2}' /tmp/wrk.out)
    p50=$(wrk -t1 -c32 -d2s --latency "http://127.0.0.1:$port$path" | awk '/ 50%/ {print $2}')
    echo "| $path | layer $layer | $rps | $p50 |"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "| route | MetricsLayer | requests/s | p50 latency |"
echo "|---|---|---|---|"
run off
run on
