#!/usr/bin/env bash
# The HTTP benchmark: GET /secure served bare, behind a hand-written key check, behind guard's
# #[api_key], behind protect-axum 0.2 and behind axum-login 0.18 (bench/src/main.rs), over
# loopback, one arm at a time.
#
#   bench/http.sh            # 5 rounds of 5 s per arm
#   ROUNDS=3 SECONDS_PER_RUN=10 CONNECTIONS=64 ARMS="bare guard" bench/http.sh
#
# The server is pinned to CPU 0 and wrk (1 thread) to CPU 1, so that they do not compete.
# The arms are alternated within every round, so that noise on a shared machine falls on all
# of them; the figures are medians over rounds. Needs wrk (installed with apt-get if missing)
# and at least two CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNECTIONS=${CONNECTIONS:-64}
PORT=${PORT:-18090}
read -r -a ARMS <<<"${ARMS:-bare handwritten guard protect-axum axum-login}"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p guard-bench
server_bin=target/release/guard-bench
results=$(mktemp)
trap 'rm -f "$results"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true' EXIT

# Latency as wrk prints it (850.00us, 2.31ms, 1.02s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
    else print v }'
}

run_arm() {
  local arm=$1 url="http://127.0.0.1:$PORT/secure" out header
  out=$(mktemp)
  taskset -c 0 "$server_bin" "$arm" "127.0.0.1:$PORT" >"$out" &
  server=$!
  for _ in $(seq 100); do grep -q '^ready' "$out" && break; sleep 0.1; done
  header=$(sed -n 's/^ready //p' "$out")
  if [ "$arm" = axum-login ]; then
    header="Cookie: $(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$PORT/login" \
      | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')"
  fi
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "$url")
  [ "$status" = 200 ] || { echo "$arm: GET /secure answered $status, not 200" >&2; exit 1; }
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d1s -H "$header" "$url" >/dev/null
  local report rps p99
  report=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -H "$header" "$url")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$report")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$report")")
  if grep -q 'Non-2xx' <<<"$report"; then echo "$arm: some answers were not 2xx" >&2; exit 1; fi
  kill "$server"; wait "$server" 2>/dev/null || true; server=
  rm -f "$out"
  echo "$arm $rps $p99" >>"$results"
  printf '  round %s  %-13s %10.0f req/s  p99 %6.2f ms\n' "$round" "$arm" "$rps" "$p99"
}

for round in $(seq "$ROUNDS"); do
  for arm in "${ARMS[@]}"; do run_arm "$arm"; done
done

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
bare_rps=$(awk '$1 == "bare" {print $2}' "$results" | median)
bare_p99=$(awk '$1 == "bare" {print $3}' "$results" | median)
echo
echo "GET /secure over loopback, wrk -t1 -c$CONNECTIONS, ${SECONDS_PER_RUN}s x $ROUNDS rounds, medians:"
printf '  %-13s %12s %9s %9s %10s\n' arm req/s vs-bare p99-ms p99-vs-bare
for arm in "${ARMS[@]}"; do
  rps=$(awk -v a="$arm" '$1 == a {print $2}' "$results" | median)
  p99=$(awk -v a="$arm" '$1 == a {print $3}' "$results" | median)
  awk -v a="$arm" -v r="$rps" -v p="$p99" -v br="$bare_rps" -v bp="$bare_p99" \
    'BEGIN { printf "  %-13s %12.0f %8.2fx %9.2f %9.2fx\n", a, r, r / br, p, p / bp }'
done
