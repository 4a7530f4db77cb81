#!/usr/bin/env bash
# Runs our release server and the Node tutorial server side by side, each pinned to core 0,
# with the load generator on core 1, and writes BENCHMARKS.md. Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
scripts/setup.sh

OURS_PORT=3910
NODE_PORT=3911
WORK=target/bench
mkdir -p "$WORK"
ulimit -n 65536 || true

cargo leptos build --release --precompress >&2
cargo build --release --example loadgen >&2
LOADGEN=target/release/examples/loadgen

# The tutorial server from shared/ (read-only there): installed in a copy.
if [ ! -d "$WORK/node-seed/node_modules" ]; then
  rm -rf "$WORK/node-seed" && cp -r ../shared/peers/node-seed "$WORK/node-seed"
  chmod -R u+w "$WORK/node-seed"
  (cd "$WORK/node-seed" && npm ci --no-audit --no-fund >&2)
fi

cpu_ms() { # user + system CPU of a process, in ms (100 ticks/s)
  awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"
}
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }

# Each sets $pid to the server's process id.
start_ours() {
  rm -rf "$WORK/db"
  LEPTOS_SITE_ADDR=127.0.0.1:$OURS_PORT CHAT_DATABASE="$WORK/db/chat.sqlite3" \
    CHAT_RATE_PER_SECOND=1000000 CHAT_RATE_BURST=1000000 \
    CHAT_MAX_CONNECTIONS_PER_IP=1000000 CHAT_HANDSHAKES_PER_MINUTE_PER_IP=100000000 \
    RUST_LOG=warn taskset -c 0 target/release/chat >"$WORK/ours.log" 2>&1 &
  pid=$!
}
start_node() {
  (cd "$WORK/node-seed" && NO_PEERS=1 PORT=$NODE_PORT exec taskset -c 0 node server.js) >"$WORK/node.log" 2>&1 &
  pid=$!
}
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.1; done; }

# run <pid> <port> <clients> <senders> <rate> <seconds>  ->  JSON with server CPU µs/delivery
run() {
  local pid=$1 port=$2
  local before; before=$(cpu_ms "$pid")
  local out; out=$(taskset -c 1 "$LOADGEN" "http://127.0.0.1:$port" "$3" "$4" "$5" "$6")
  local after; after=$(cpu_ms "$pid")
  local delivered; delivered=$(echo "$out" | sed -E 's/.*"delivered":([0-9]+).*/\1/')
  local per; per=$(awk -v c=$((after - before)) -v d="$delivered" 'BEGIN { if (d > 0) printf "%.2f", c * 1000 / d; else print "n/a" }')
  echo "${out%\}},\"server_cpu_us_per_delivery\":\"$per\",\"server_rss_kib\":$(rss_kib "$pid")}"
}

field() { echo "$1" | sed -E "s/.*\"$2\":\"?([0-9.a-z/]+)\"?.*/\1/"; }

RESULTS="$WORK/results.txt"
: > "$RESULTS"
for server in ours node; do
  if [ $server = ours ]; then start_ours; port=$OURS_PORT; else start_node; port=$NODE_PORT; fi
  wait_port $port
  for rate in 100 250 500 1000 2000; do
    echo "$server throughput200 $rate $(run "$pid" $port 200 50 $rate 4)" >> "$RESULTS"
  done
  echo "$server latency1000 100 $(run "$pid" $port 1000 50 100 5)" >> "$RESULTS"
  if [ $server = ours ]; then
    html=$(curl -s -H 'Accept-Encoding: br' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$OURS_PORT/")
  fi
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
done

# First load: what the page costs over the wire (brotli as served).
pkg=$(find target/site/pkg -name '*.br' ! -name '*.ts.br' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')

{
  echo "# Benchmarks"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo); $(date -u +%Y-%m-%d)."
  echo "Command: \`make bench\`. Each server pinned to core 0 (\`taskset -c 0\`), the load generator"
  echo "(examples/loadgen.rs, one Tokio thread) to core 1. Our server: release build, SQLite, every"
  echo "check on (rate limits raised, as one generator stands for many people). Node: the tutorial"
  echo "server from shared/peers/node-seed with \`NO_PEERS=1\`."
  echo
  echo "| scenario | server | msgs/s sent | deliveries/s | delivered | p50 ms | p99 ms | p99.9 ms | server CPU µs/delivery | loadgen CPU ms |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  while read -r server scenario rate json; do
    echo "| $scenario | $server | $rate | $(field "$json" deliveries_per_s) | $(field "$json" delivery_ratio) | $(field "$json" p50_ms) | $(field "$json" p99_ms) | $(field "$json" p999_ms) | $(field "$json" server_cpu_us_per_delivery) | $(field "$json" loadgen_cpu_ms) |"
  done < "$RESULTS"
  echo
  echo "First load over the wire (brotli): HTML ${html} B + JS/WASM/CSS $pkg B."
  echo
  echo "Not measured yet: idle RSS per connection at 10 000 clients, the 2 000-client join storm,"
  echo "time to hydrated, and the ratio column; see the performance issue."
} > BENCHMARKS.md
cat BENCHMARKS.md
