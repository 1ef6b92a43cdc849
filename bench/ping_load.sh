#!/usr/bin/env bash
# Ping ingestion under load: `tend serve` on SQLite (or on PostgreSQL when
# TEND_BENCH_POSTGRES_URL names an empty database), 10,000 heartbeat checks, and wrk on
# loopback with 64 connections spreading GET /ping/<uuid> over all of them.
# Prints pings/s, latency percentiles, the server's CPU time per ping (utime + stime
# from /proc/<pid>/stat around the measured run, divided by the pings answered), its
# memory (VmHWM / VmRSS) and how many pings were stored: every 200 must be, since the
# server answers only after the commit.
# A 3 s warm-up first pings most checks once (their first ping flips them new -> up).
# Usage: bench/ping_load.sh [seconds]   (builds the release binary first; needs wrk)
# Listens on the first free port from 18100 (TEND_BENCH_PORT to choose).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
source bench/lib.sh
bench_setup
token=$("$bin" token create --name bench --scope write | grep -o 'tend_[A-Za-z0-9_]*' | head -1)
bench_serve --no-jobs

# 10,000 checks through the API, their UUIDs in a file for wrk.
python3 - "$port" "$token" "$dir/uuids.txt" <<'PY'
import http.client, json, sys
port, token, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
ids = []
for i in range(10_000):
    body = json.dumps({"client": "bench", "name": f"job {i}", "period": "1h", "grace": "1h"})
    c.request("POST", "/api/v1/checks", body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = c.getresponse(); data = r.read()
    if r.status != 201:
        sys.exit(f"creating check {i}: {r.status} {data[:200]}")
    ids.append(json.loads(data)["uuid"])
open(out, "w").write("\n".join(ids) + "\n")
PY

cat >"$dir/ping.lua" <<LUA
local ids = {}
for line in io.lines("$dir/uuids.txt") do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/ping/" .. ids[math.random(#ids)])
end
response = function(status, headers, body)
  if status ~= 200 then error("ping answered " .. status) end
end
LUA

wrk -t2 -c64 -d3s -s "$dir/ping.lua" "http://127.0.0.1:$port" >"$dir/warmup.txt"
cpu_before=$(awk '{print $14 + $15}' "/proc/$server/stat")
wrk -t2 -c64 -d"${seconds}s" --latency -s "$dir/ping.lua" "http://127.0.0.1:$port" >"$dir/wrk.txt"
cpu_after=$(awk '{print $14 + $15}' "/proc/$server/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
kill "$server"; wait "$server" 2>/dev/null || true
server=

# Pings stored, counted in the database (too few per check here for any pruning);
# wrk does not count the requests still in flight when it stops, so stored >= answered.
if [ "$engine" = PostgreSQL ]; then
  stored=$(psql -tA "$TEND_BENCH_POSTGRES_URL" -c 'SELECT COUNT(*) FROM pings')
else
  stored=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM pings").fetchone()[0])' "$dir/tend.db")
fi
python3 - "$dir/wrk.txt" "$dir/warmup.txt" "$engine" "$seconds" "$((cpu_after - cpu_before))" "$(getconf CLK_TCK)" "$hwm" "$rss" "$stored" <<'PY'
import re, sys
text, warm = open(sys.argv[1]).read(), open(sys.argv[2]).read()
engine, seconds, ticks, hz = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
hwm, rss = int(sys.argv[7]) / 1024, int(sys.argv[8]) / 1024
stored = int(sys.argv[9])
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
warm_total = int(re.search(r"(\d+) requests in", warm).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
def pct(p):
    m = re.search(rf"\s{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
cpu_ms_per_ping = ticks / hz * 1000 / max(total, 1)
print(f"| figure ({engine}, 10,000 checks, 64 connections, {seconds} s) | value |")
print("|---|---:|")
print(f"| pings/s | {rps:,.0f} |")
print(f"| latency p50 / p90 / p99 | {pct(50):.2f} / {pct(90):.2f} / {pct(99):.2f} ms |")
print(f"| server CPU per ping (measured run only) | {cpu_ms_per_ping:.3f} ms |")
print(f"| server memory: peak (VmHWM) / at the end (VmRSS) | {hwm:.0f} / {rss:.0f} MB |")
print(f"| pings answered | {total:,} (non-2xx: {errors.group(1) if errors else 0}; warm-up {warm_total:,}) |")
answered = total + warm_total
print(f"| pings stored | {stored:,} ({'>=' if stored >= answered else 'FEWER THAN'} the {answered:,} answered) |")
PY
