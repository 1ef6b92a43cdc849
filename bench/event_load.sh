#!/usr/bin/env bash
# Event ingestion under load: `tend serve` on SQLite (or PostgreSQL when
# TEND_BENCH_POSTGRES_URL names an empty database), 100 event streams that have
# learned their shape, and wrk on loopback POSTing JSON events to /events/<uuid>.
# Each event is written in its own short transaction before the 200 (no batching
# writer: events are far rarer than pings). Prints events/s, latency percentiles and
# how many events were stored.
# Usage: bench/event_load.sh [seconds] [connections]   (builds the release binary; needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
conns=${2:-16}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
source bench/lib.sh
bench_setup
for i in $(seq 100); do
  "$bin" check add --client bench --name "stream $i" --events --learn-events 5 | sed 's#.*/events/##'
done >"$dir/uuids.txt"
bench_serve --no-jobs
event='{"lead":{"email":"ann@example.com","name":"Ann","phone":"+15550100"},"items":[{"sku":"A1","qty":2}],"source":"typeform"}'
# Learn each stream's shape first, so the load measures drift checking.
while read -r id; do
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$event" "http://127.0.0.1:$port/events/$id"
  done
done <"$dir/uuids.txt"

cat >"$dir/event.lua" <<LUA
local ids = {}
for line in io.lines("$dir/uuids.txt") do ids[#ids + 1] = line end
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$event'
request = function()
  return wrk.format(nil, "/events/" .. ids[math.random(#ids)])
end
response = function(status, headers, body)
  if status ~= 200 then error("event answered " .. status) end
end
LUA

wrk -t2 -c"$conns" -d"${seconds}s" --latency -s "$dir/event.lua" "http://127.0.0.1:$port" >"$dir/wrk.txt"
kill "$server"; wait "$server" 2>/dev/null || true
server=
stored=$(python3 - "$dir" "$engine" <<'PY'
import sqlite3, sys, os
d, engine = sys.argv[1], sys.argv[2]
if engine != "SQLite":
    print("-"); sys.exit()
db = sqlite3.connect(os.path.join(d, "tend.db"))
print(db.execute("SELECT SUM(ping_count) FROM checks").fetchone()[0])
PY
)
python3 - "$dir/wrk.txt" "$engine" "$conns" "$stored" <<'PY'
import re, sys
text, engine, conns, stored = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
def pct(p):
    m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
print(f"| engine | connections | events/s | p50 | p99 | answered 200 | stored (incl. 500 learning) |")
print(f"|---|---|---|---|---|---|---|")
print(f"| {engine} | {conns} | {rps:,.0f} | {pct(50):.1f} ms | {pct(99):.1f} ms | {total:,} | {stored} |")
PY
