#!/usr/bin/env bash
# Head-of-line blocking by large bodies: small prompts (3.5 KB) at a constant rate to
# the built-in `customs-echo` model, alone and then while 3.5 MB bodies of dense
# regulated data (the `DENSE` line of examples/common, repeated) arrive at their own
# rate. Prints the small prompts' latency both ways: what a large body costs everyone
# else on the gateway.
#
#   benches/large_bodies.sh                   # small 100/s, large 8/s, 20 s
#   BIN=/path/to/other/customs SKIP_BUILD=1 benches/large_bodies.sh
#
# Environment: BIN (target/release/customs), SMALL_RATE (100), LARGE_RATE (8),
# DURATION (20), OUT (target/large_bodies), SKIP_BUILD=1. The gateway runs on the
# embedded default configuration on 127.0.0.1 and is stopped on exit; nothing leaves
# the machine (the large bodies are refused by policy after they are scanned, as card
# numbers never leave; the small ones are answered by the echo model).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-$ROOT/target/release/customs}
SMALL_RATE=${SMALL_RATE:-100}
LARGE_RATE=${LARGE_RATE:-8}
DURATION=${DURATION:-20}
OUT=${OUT:-$ROOT/target/large_bodies}
LOADGEN=$ROOT/target/release/examples/loadgen

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  cargo build --release --bin customs --example loadgen
fi
mkdir -p "$OUT"

python3 - "$ROOT/examples/common/mod.rs" "$OUT" <<'PY'
import json, re, sys
source, out = sys.argv[1], sys.argv[2]
line = re.search(r'pub const DENSE: &str = "(.*?)";', open(source).read()).group(1)
line = line.replace("\\n", "\n")
large = line * (3_500_000 // len(line))
small = "Please summarise the meeting notes below. " * 80 + "Contact jane.doe@example.com or 415-555-2671."
for name, text in (("large", large), ("small", small)):
    body = {"model": "customs-echo", "messages": [{"role": "user", "content": text}]}
    json.dump(body, open(f"{out}/{name}.json", "w"))
PY

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
URL=http://127.0.0.1:$PORT/v1/chat/completions
TOKEN=$("$BIN" token --sub alice --claims '{"groups":["engineering"],"residency":"US"}')
RUST_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" >"$OUT/gateway.log" 2>&1 &
GW=$!
PIDS=("$GW")
trap 'kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf -o /dev/null --noproxy '*' --max-time 1 "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done

load() { # RATE BODY LABEL SECONDS
  "$LOADGEN" --url "$URL" --rate "$1" --duration "$4" --warmup 2 --body "$OUT/$2.json" \
    --header "Authorization: Bearer $TOKEN" --timeout 30 --label "$3" --json "$OUT/$3.summary.json"
}

load "$SMALL_RATE" small small-alone "$DURATION" >"$OUT/small-alone.txt"
load "$LARGE_RATE" large large "$((DURATION + 4))" >"$OUT/large.txt" &
PIDS+=("$!")
load "$SMALL_RATE" small small-with-large "$DURATION" >"$OUT/small-with-large.txt"
wait "${PIDS[1]}"
for run in small-alone small-with-large large; do
  printf '%-17s ' "$run"
  grep -E 'statuses|latency' "$OUT/$run.txt" | tr -s ' ' | tr '\n' ' '
  echo
done
