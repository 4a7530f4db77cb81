#!/usr/bin/env bash
# Runs our release server and the Node tutorial server side by side, each pinned to core 0,
# with the load generator on core 1, through the same scenarios, then two of our nodes on one
# Redis; writes BENCHMARKS.md (scripts/bench-report.mjs makes the tables). About 6 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
scripts/setup.sh

OURS_PORT=3910
NODE_PORT=3911
REDIS_PORT=3913
NODE_A_PORT=3914
NODE_B_PORT=3915
WORK=target/bench
mkdir -p "$WORK"
# 10 000 clients need 10 000 descriptors on each side.
ulimit -n "$(ulimit -Hn)"

cargo leptos build --release --precompress >&2
cargo build --release --features ssr --example loadgen >&2
LOADGEN=target/release/examples/loadgen

# The tutorial server from shared/ (read-only there): installed in a copy.
if [ ! -d "$WORK/node-seed/node_modules" ]; then
  rm -rf "$WORK/node-seed" && cp -r ../shared/peers/node-seed "$WORK/node-seed"
  chmod -R u+w "$WORK/node-seed"
  (cd "$WORK/node-seed" && npm ci --no-audit --no-fund >&2)
fi

# Whatever this script started goes when it ends, however it ends.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

cpu_ms() { # user + system CPU of processes, in ms (100 ticks/s), summed
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '{ print ($14 + $15) * 10 }' "/proc/$pid/stat"))); done
  echo "$total"
}
rss_kib() { # resident memory of processes, summed
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '/VmRSS/ { print $2 }' "/proc/$pid/status"))); done
  echo "$total"
}
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.05; done; echo "port $1 never answered" >&2; exit 1; }
stop() { kill "$@" 2>/dev/null || true; wait "$@" 2>/dev/null || true; }

# Our server: release build, every check on; rate and per-IP limits raised, because one
# generator on one address stands for thousands of people. Sets $pid.
OURS_EXTRA=()
OURS_ENV=(CHAT_RATE_PER_SECOND=1000000 CHAT_RATE_BURST=1000000 CHAT_MAX_CONNECTIONS_PER_IP=1000000
  CHAT_HANDSHAKES_PER_MINUTE_PER_IP=100000000 RUST_LOG=warn)
start_ours() {
  rm -rf "$WORK/db"
  env "${OURS_ENV[@]}" "${OURS_EXTRA[@]}" LEPTOS_SITE_ADDR=127.0.0.1:$OURS_PORT CHAT_DATABASE="$WORK/db/chat.sqlite3" \
    taskset -c 0 target/release/chat >"$WORK/ours.log" 2>&1 &
  pid=$!
  wait_port $OURS_PORT
}
# The tutorial server; $1 = 1 turns off its per-connect peer broadcast (it tests NO_PEERS for
# being set at all). Sets $pid.
start_node() {
  local peers=(); [ "$1" = 1 ] && peers=(NO_PEERS=1)
  (cd "$WORK/node-seed" && exec env "${peers[@]}" PORT=$NODE_PORT taskset -c 0 node server.js) >"$WORK/node.log" 2>&1 &
  pid=$!
  wait_port $NODE_PORT
}

RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
record() { # server scenario json
  echo "{\"server\":\"$1\",\"scenario\":\"$2\",${3#\{}" >> "$RESULTS"
}

# broadcast <server> <scenario> <urls> <clients> <senders> <rate> <seconds> <pids...>
broadcast() {
  local server=$1 scenario=$2 urls=$3 clients=$4 senders=$5 rate=$6 seconds=$7
  shift 7
  local before; before=$(cpu_ms "$@")
  local out; out=$(taskset -c 1 "$LOADGEN" broadcast "$urls" "$clients" "$senders" "$rate" "$seconds")
  local after; after=$(cpu_ms "$@")
  record "$server" "$scenario" "${out%\}},\"server_cpu_ms\":$((after - before)),\"server_rss_kib\":$(rss_kib "$@")}"
}

# idle <server> <url> <clients> <pids...>: RSS before and with the clients connected.
idle() {
  local server=$1 url=$2 clients=$3
  shift 3
  sleep 1
  local before; before=$(rss_kib "$@")
  local fifo="$WORK/idle.fifo"
  rm -f "$fifo"; mkfifo "$fifo"
  taskset -c 1 "$LOADGEN" idle "$url" "$clients" 6 > "$fifo" &
  local gen=$!
  local out; read -r out < "$fifo"
  sleep 3 # let the server settle (and trim) with everyone connected
  local after; after=$(rss_kib "$@")
  wait $gen || true
  record "$server" "idle" "${out%\}},\"rss_before_kib\":$before,\"rss_after_kib\":$after}"
}

# history <server> <url>: older-history pages in a room of 100 000 messages.
history() {
  record "$1" history "$(taskset -c 1 "$LOADGEN" history "$2" 100000 1000)"
}

# storm <server> <urls> <clients> <pids...>
storm() {
  local server=$1 urls=$2 clients=$3
  shift 3
  local before; before=$(cpu_ms "$@")
  local out; out=$(taskset -c 1 "$LOADGEN" storm "$urls" "$clients" 60)
  local after; after=$(cpu_ms "$@")
  record "$server" "storm" "${out%\}},\"server_cpu_ms\":$((after - before))}"
}

for server in ours node; do
  if [ $server = ours ]; then start_ours; port=$OURS_PORT; else start_node 1; port=$NODE_PORT; fi
  url=http://127.0.0.1:$port
  for rate in 100 250 500 1000 2000; do
    broadcast $server throughput200 $url 200 50 $rate 4 $pid
  done
  for rate in 25 100 400; do
    broadcast $server throughput1000 $url 1000 50 $rate 4 $pid
  done
  stop $pid
  # Fresh processes for memory and the storm: nothing left from the runs above.
  # Idle memory: ours in its default configuration (member lists on) and with lists off;
  # Node with NO_PEERS=1 (with presence on, 10 000 connections take it O(N²) time: the
  # 2 000-client storm below already takes it half a minute).
  if [ $server = ours ]; then
    start_ours
    idle ours $url 10000 $pid
    stop $pid
    OURS_EXTRA=(CHAT_PEER_LIST_LIMIT=0); start_ours; OURS_EXTRA=()
    idle ours-lists-off $url 10000 $pid
    stop $pid
    # 10 000 of our own clients (lists kept from changes) at once.
    start_ours
    before=$(cpu_ms $pid)
    out=$(taskset -c 1 "$LOADGEN" members "$url" 10000 500 60)
    record ours members "${out%\}},\"server_cpu_ms\":$(($(cpu_ms $pid) - before)),\"server_rss_kib\":$(rss_kib $pid)}"
    stop $pid
  else
    start_node 1
    idle node $url 10000 $pid
    stop $pid
  fi
  if [ $server = ours ]; then start_ours; else start_node 0; fi
  storm $server $url 2000 $pid
  stop $pid
  if [ $server = ours ]; then
    start_ours
    history ours $url
    stop $pid
  fi
done

# Two of our nodes on one Redis, all on core 0 like the single server (so this shows what the
# shared path costs, not more hardware).
rm -rf "$WORK/redis" && mkdir -p "$WORK/redis"
taskset -c 0 redis-server --port $REDIS_PORT --bind 127.0.0.1 --dir "$PWD/$WORK/redis" \
  --appendonly yes --save "" >"$WORK/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null && break; sleep 0.05; done
start_two() {
  pids=("$redis_pid")
  for p in $NODE_A_PORT $NODE_B_PORT; do
    env "${OURS_ENV[@]}" LEPTOS_SITE_ADDR=127.0.0.1:$p CHAT_REDIS_URL=redis://127.0.0.1:$REDIS_PORT \
      taskset -c 0 target/release/chat >"$WORK/node-$p.log" 2>&1 &
    pids+=("$!")
    wait_port $p
  done
}
two=http://127.0.0.1:$NODE_A_PORT,http://127.0.0.1:$NODE_B_PORT
start_two
for rate in 100 500 1000 2000; do
  broadcast two-nodes throughput200 $two 200 50 $rate 4 "${pids[@]}"
done
broadcast two-nodes throughput1000 $two 1000 50 100 4 "${pids[@]}"
stop "${pids[@]:1}"
start_two
storm two-nodes $two 2000 "${pids[@]}"
stop "${pids[@]:1}"
start_two
history two-nodes "http://127.0.0.1:$NODE_A_PORT"
stop "${pids[@]}"

# Search latency over 1 000 000 stored messages, in both placements of the index (one
# process: the chat's database; a node of several: its own replica of the shared store).
cargo build --release --features ssr --example search_bench
taskset -c 0 target/release/examples/search_bench 1000000 "$WORK/search" 200 | tee "$WORK/search.txt"
grep '^{"placement"' "$WORK/search.txt" | while read -r line; do
  record search search "$line"
done
rm -rf "$WORK/search"

# First load: bytes as served with brotli (what browsers get over HTTPS), and in Chromium.
start_ours
html=$(curl -s -H 'Accept-Encoding: br' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$OURS_PORT/")
pkg=$(find target/site/pkg -name '*.br' ! -name '*.ts.br' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
wasm_raw=$(find target/site/pkg -name '*.wasm' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
out=$(node scripts/first-load.mjs "http://127.0.0.1:$OURS_PORT" 7)
record ours first-load "${out%\}},\"html_br\":$html,\"assets_br\":$pkg,\"wasm_raw\":$wasm_raw}"
stop $pid
start_node 1
node_bytes=$(( $(curl -s -H 'Accept-Encoding: br, gzip' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$NODE_PORT/") + \
  $(curl -s -H 'Accept-Encoding: br, gzip' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$NODE_PORT/socket.io/socket.io.js") ))
record node first-load "{\"bytes\":$node_bytes}"
stop $pid

node scripts/bench-report.mjs "$RESULTS" > BENCHMARKS.md
cat BENCHMARKS.md
