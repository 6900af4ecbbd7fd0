#!/usr/bin/env bash
# End-to-end latency on loopback: an open-loop load generator against a mock upstream
# directly, then against `customs serve` forwarding to the same mock, and the latency the
# gateway adds (gateway minus direct) at p50 and p99.
#
#   benches/e2e.sh                      # 1000 req/s, 20 s measured (+3 s warm-up), 2 rounds
#   RATE=500 ROUNDS=1 benches/e2e.sh    # another rate, one round
#
# Environment: RATE (1000), DURATION (20), WARMUP (3), ROUNDS (2; each round runs direct
# then gateway), CONCURRENCY (256, the load generator's in-flight limit), LG_WORKERS (1)
# and MOCK_WORKERS (1) tokio worker threads, OUT (target/e2e: body, config, logs, JSON
# summaries), SKIP_BUILD=1 to use the binaries already in target/release.
#
# Everything listens on 127.0.0.1 and everything started here is stopped on exit. The
# gateway's stderr (one JSON decision event per request at info) goes to a file, so the
# cost of logging is part of the measurement.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RATE=${RATE:-1000}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-2}
CONCURRENCY=${CONCURRENCY:-256}
LG_WORKERS=${LG_WORKERS:-1}
MOCK_WORKERS=${MOCK_WORKERS:-1}
OUT=${OUT:-$ROOT/target/e2e}
# A safety net: the mock exits by itself after this long even if this script is killed.
MOCK_EXIT_AFTER=$(( (WARMUP + DURATION + 30) * ROUNDS * 2 + 300 ))

BIN=$ROOT/target/release/customs
MOCK=$ROOT/target/release/examples/mock_upstream
LOADGEN=$ROOT/target/release/examples/loadgen

log() { printf '==> %s\n' "$*" >&2; }

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building (release): customs, examples mock_upstream and loadgen"
  cargo build --release --bin customs --example mock_upstream --example loadgen
fi
for f in "$BIN" "$MOCK" "$LOADGEN"; do
  [[ -x $f ]] || { echo "missing $f" >&2; exit 1; }
done

rm -rf "$OUT"
mkdir -p "$OUT"

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# CPU seconds (user+system) a process has used so far.
CLK_TCK=$(getconf CLK_TCK)
cpu_secs() {
  awk -v tck="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / tck }' "/proc/$1/stat"
}

# "WALL IDLE": seconds since the epoch and CPU seconds all CPUs have been idle so far
# (idle + iowait; the busy counters of /proc/stat proved unreliable on this VM).
machine_idle() {
  awk -v tck="$CLK_TCK" -v now="$(date +%s.%N)" \
    '$1 == "cpu" { printf "%s %.2f", now, ($5 + $6) / tck }' /proc/stat
}

wait_ready() { # NAME PID URL [curl args]: until curl succeeds (-f: a 2xx)
  local name=$1 pid=$2 i
  shift 2
  for i in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before it was ready" >&2
      return 1
    fi
    if curl -sf -o /dev/null --noproxy '*' --max-time 1 "$@"; then
      return 0
    fi
    sleep 0.1
  done
  echo "$name not ready after 10 s" >&2
  return 1
}

MOCK_PORT=$(free_port)
GW_PORT=$(free_port)
UPSTREAM_KEY_ENV=CUSTOMS_E2E_UPSTREAM_KEY
ISSUER=https://idp.e2e.example
AUDIENCE=customs-e2e

# --- mock upstream -------------------------------------------------------------------
"$MOCK" --listen "127.0.0.1:$MOCK_PORT" --workers "$MOCK_WORKERS" \
  --exit-after "$MOCK_EXIT_AFTER" >"$OUT/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")

# --- gateway -------------------------------------------------------------------------
cat >"$OUT/customs.toml" <<EOF
[server]
listen = "127.0.0.1:$GW_PORT"
shutdown_grace_secs = 2
upstream_timeout_secs = 10

[auth]
issuer = "$ISSUER"
audience = "$AUDIENCE"
jwks_file = "$ROOT/tests/support/keys/jwks.json"
algorithms = ["RS256"]

# Every remote deployment of the bundled catalog points at the mock: nothing leaves.
[upstream.base_urls]
gpt-4o-openai-us = "http://127.0.0.1:$MOCK_PORT/v1"
text-embedding-3-small-openai-us = "http://127.0.0.1:$MOCK_PORT/v1"
gpt-4o-azure-swedencentral = "http://127.0.0.1:$MOCK_PORT"

[upstream.credential_envs]
gpt-4o-openai-us = "$UPSTREAM_KEY_ENV"
text-embedding-3-small-openai-us = "$UPSTREAM_KEY_ENV"
gpt-4o-azure-swedencentral = "$UPSTREAM_KEY_ENV"
EOF

# A clean environment: no OTLP export, no proxies, no provider keys from the caller's
# shell; the decision log at info as in production.
env -i PATH="$PATH" HOME="$HOME" RUST_LOG=info \
  CUSTOMS_HMAC_KEY=customs-e2e-fingerprint-key \
  "$UPSTREAM_KEY_ENV=sk-e2e-mock" \
  "$BIN" serve --config "$OUT/customs.toml" \
  >"$OUT/customs.stdout.log" 2>"$OUT/customs.stderr.log" &
GW_PID=$!
PIDS+=("$GW_PID")

wait_ready customs "$GW_PID" "http://127.0.0.1:$GW_PORT/readyz"
wait_ready mock_upstream "$MOCK_PID" -H 'content-type: application/json' -d '{}' \
  "http://127.0.0.1:$MOCK_PORT/v1/chat/completions"

# --- token and body ------------------------------------------------------------------
TOKEN=$(python3 - "$ROOT/tests/support/keys/rsa_test.pem" "$ISSUER" "$AUDIENCE" <<'PY'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

pem, issuer, audience = sys.argv[1:4]
key = serialization.load_pem_private_key(open(pem, "rb").read(), password=None)
now = int(time.time())
claims = {"sub": "loadgen", "iss": issuer, "aud": audience, "iat": now, "nbf": now - 5,
          "exp": now + 3600, "groups": ["engineering"], "residency": "US"}
b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
header = {"alg": "RS256", "typ": "JWT", "kid": "test-rsa-1"}
signing_input = ".".join(b64(json.dumps(p, separators=(",", ":")).encode()) for p in (header, claims))
signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
print(f"{signing_input}.{b64(signature)}")
PY
)

python3 - "$OUT/body.json" <<'PY'
import json, sys

filler = ("The quarterly review covers onboarding, the migration of the billing service, "
          "open questions about the vendor contract and the timeline for the next release. ")
pii = ("Please follow up with the customer: write to jane.doe@example.com or call "
       "+1 415 555 0132. They paid with card 4111 1111 1111 1111 and gave SSN 123-45-6789 "
       "for the background check. ")
content = pii
while len(content) < 3900:
    content += filler
content += "Summarise the situation in three bullet points."
body = {"model": "gpt-4o-us",
        "messages": [{"role": "system", "content": "You are a concise assistant."},
                     {"role": "user", "content": content}]}
data = json.dumps(body).encode()
open(sys.argv[1], "wb").write(data)
print(f"body: {len(data)} bytes", file=sys.stderr)
PY

DIRECT_URL="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
GW_URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"

# --- sanity: a couple of 200s before loading --------------------------------------------
for target in direct gateway; do
  for n in 1 2; do
    if [[ $target == direct ]]; then
      code=$(curl -s --noproxy '*' -o "$OUT/sanity-$target.json" -w '%{http_code}' \
        -H 'content-type: application/json' --data-binary "@$OUT/body.json" "$DIRECT_URL")
    else
      code=$(curl -s --noproxy '*' -o "$OUT/sanity-$target.json" -w '%{http_code}' \
        -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        --data-binary "@$OUT/body.json" "$GW_URL")
    fi
    if [[ $code != 200 ]]; then
      echo "sanity check: $target answered $code: $(head -c 500 "$OUT/sanity-$target.json")" >&2
      exit 1
    fi
  done
  log "sanity: $target answered 200 twice"
done
# What the gateway decided for this body (from its last decision event).
python3 - "$OUT/customs.stderr.log" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if '"customs.decision"' in line:
        last = json.loads(line)
if last is None:
    sys.exit("no decision event in the gateway log")
fields = last.get("fields", last)
keys = ("outcome", "status", "deployment", "classes", "redactions", "segments", "phase_timings_us")
print("==> last decision event:", json.dumps({k: fields.get(k) for k in keys}), file=sys.stderr)
PY

# --- load ------------------------------------------------------------------------------
log "machine: $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
busy=$(ps -eo pcpu=,comm= --sort=-pcpu | awk -v me="$$" '$1 > 20 {print}' | head -5)
if [[ -n $busy ]]; then
  log "WARNING: other busy processes share the CPUs (results will be noisier):"
  printf '%s\n' "$busy" >&2
fi

run_load() { # LABEL URL [extra loadgen args]
  local label=$1 url=$2
  shift 2
  local mock0 gw0 all0 mock1 gw1 all1 lg_cpu
  mock0=$(cpu_secs "$MOCK_PID")
  gw0=$(cpu_secs "$GW_PID")
  all0=$(machine_idle)
  local TIMEFORMAT='%U %S'
  { time "$LOADGEN" --url "$url" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" \
      --body "$OUT/body.json" --concurrency-limit "$CONCURRENCY" --workers "$LG_WORKERS" \
      --label "$label" --json "$OUT/$label.json" "$@" >"$OUT/$label.txt" 2>&1; } \
    2>"$OUT/$label.time"
  cat "$OUT/$label.txt"
  mock1=$(cpu_secs "$MOCK_PID")
  gw1=$(cpu_secs "$GW_PID")
  all1=$(machine_idle)
  lg_cpu=$(awk '{printf "%.2f", $1 + $2}' "$OUT/$label.time")
  # "other": busy CPU time of everything else on the machine during the run (other
  # builds or benchmarks, the kernel's own work not charged to these processes).
  awk -v span="$((WARMUP + DURATION))" -v lg="$lg_cpu" -v ncpu="$(nproc)" \
    -v m0="$mock0" -v m1="$mock1" -v g0="$gw0" -v g1="$gw1" -v a0="$all0" -v a1="$all1" \
    'BEGIN { mock = m1 - m0; gw = g1 - g0;
             split(a0, x, " "); split(a1, y, " "); wall = y[1] - x[1];
             all = wall * ncpu - (y[2] - x[2]); other = all - lg - mock - gw;
             printf "  CPU seconds over the run (%s s incl. warm-up): loadgen %.2f, mock %.2f, customs %.2f, other %.2f (machine busy %.2f of %.2f)\n",
                    span, lg, mock, gw, other, all, wall * ncpu }' | tee "$OUT/$label.cpu"
}

for round in $(seq 1 "$ROUNDS"); do
  log "round $round/$ROUNDS: direct to the mock"
  run_load "direct-$round" "$DIRECT_URL"
  log "round $round/$ROUNDS: through customs (model gpt-4o-us)"
  log_before=$(stat -c %s "$OUT/customs.stderr.log")
  run_load "gateway-$round" "$GW_URL" --header "Authorization: Bearer $TOKEN"
  log_after=$(stat -c %s "$OUT/customs.stderr.log")
  echo "$((log_after - log_before))" >"$OUT/gateway-$round.logbytes"
done

# --- report ----------------------------------------------------------------------------
echo
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, re, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def cpu(label, what):
    text = open(f"{out}/{label}.cpu").read()
    return float(re.search(what + r" (-?[0-9.]+)", text).group(1))
print("round  target    rate/s   2xx     non-2xx/err  p50 ms   p90 ms   p99 ms   p99.9 ms  max ms   customs CPU s  other CPU s")
for r in range(1, rounds + 1):
    d = json.load(open(f"{out}/direct-{r}.json"))
    g = json.load(open(f"{out}/gateway-{r}.json"))
    for name, s in (("direct", d), ("gateway", g)):
        lat = s["latency_ms"]
        bad = s["requests"] - s["ok"]
        print(f"{r:<6} {name:<9} {s['achieved_rps']:>7.1f}  {s['ok']:>6}  {bad:>11}  "
              f"{lat['p50']:>7.3f}  {lat['p90']:>7.3f}  {lat['p99']:>7.3f}  {lat['p99.9']:>8.3f}  {lat['max']:>7.2f}"
              f"  {cpu(f'{name}-{r}', 'customs'):>13.2f}  {cpu(f'{name}-{r}', 'other'):>11.2f}")
    logbytes = int(open(f"{out}/gateway-{r}.logbytes").read())
    sent = round(g["rate"] * (g["warmup_secs"] + g["duration_secs"]))
    print(f"       added by customs: p50 {g['latency_ms']['p50'] - d['latency_ms']['p50']:+.3f} ms, "
          f"p99 {g['latency_ms']['p99'] - d['latency_ms']['p99']:+.3f} ms; "
          f"decision log {logbytes} B ({logbytes / max(sent, 1):.0f} B/request)")
PY
# Where the gateway's own time goes, from the phase timings of its decision events (all
# gateway rounds, warm-up included).
python3 - "$OUT/customs.stderr.log" <<'PY'
import json, math, sys
phases = {}
count = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if '"customs.decision"' not in line:
        continue
    record = json.loads(line)
    fields = record.get("fields", record)
    count += 1
    for item in str(fields.get("phase_timings_us", "")).split(","):
        if ":" in item:
            name, us = item.split(":", 1)
            phases.setdefault(name, []).append(int(us))
def pct(values, p):
    values = sorted(values)
    rank = math.ceil(len(values) * p / 100)
    return values[min(max(rank, 1), len(values)) - 1]
print(f"\ncustoms phase timings over {count} decision events (µs):")
print("phase          p50      p90      p99    p99.9      max")
for name, values in phases.items():
    print(f"{name:<12} {pct(values, 50):>6} {pct(values, 90):>8} {pct(values, 99):>8} "
          f"{pct(values, 99.9):>8} {max(values):>8}")
PY
echo
log "gateway stderr log: $OUT/customs.stderr.log ($(stat -c %s "$OUT/customs.stderr.log") bytes, $(wc -l <"$OUT/customs.stderr.log") lines)"
log "details: $OUT"
