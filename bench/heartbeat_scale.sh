#!/usr/bin/env bash
# The heartbeat watcher at scale: `tend serve` (with its jobs: the watcher looks every
# second) on SQLite (or PostgreSQL when TEND_BENCH_POSTGRES_URL names an empty
# database) holding 100,000 heartbeat checks, all pinged once so that each has a
# deadline. 1,000 of them have a 1-minute period and are pinged over ~10 s, then left
# alone: the bench waits for their deadlines to pass and prints how long after each
# deadline the watcher recorded the check as late (flip time minus deadline), and the
# server's memory (VmHWM / VmRSS).
# Usage: bench/heartbeat_scale.sh [checks]   (default 100000; builds the release binary)
# Listens on the first free port from 18100 (TEND_BENCH_PORT to choose).
set -euo pipefail
cd "$(dirname "$0")/.."
checks=${1:-100000}
probes=1000
source bench/lib.sh
bench_setup
token=$("$bin" token create --name bench --scope write | grep -o 'tend_[A-Za-z0-9_]*' | head -1)
bench_serve

python3 - "$port" "$token" "$checks" "$probes" <<'PY'
import http.client, json, sys, threading, time
port, token, checks, probes = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
THREADS = 4

def in_threads(work, items):
    chunks = [items[i::THREADS] for i in range(THREADS)]
    out = [[] for _ in range(THREADS)]
    def run(i):
        c = http.client.HTTPConnection("127.0.0.1", port)
        for item in chunks[i]:
            out[i].append(work(c, item))
    ts = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    [t.start() for t in ts]; [t.join() for t in ts]
    return [x for o in out for x in o]

def create(c, i):
    period = "1m" if i < probes else "1h"
    body = json.dumps({"client": "bench", "name": f"job {i}", "period": period, "grace": period})
    c.request("POST", "/api/v1/checks", body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = c.getresponse(); data = r.read()
    if r.status != 201:
        sys.exit(f"creating check {i}: {r.status} {data[:200]}")
    return (i, json.loads(data)["uuid"])

def ping(c, uuid):
    c.request("GET", f"/ping/{uuid}")
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit(f"ping: {r.status}")

t = time.time()
made = sorted(in_threads(create, list(range(checks))))
print(f"created {checks:,} checks in {time.time() - t:.0f} s", file=sys.stderr)
t = time.time()
in_threads(ping, [u for i, u in made if i >= probes])
print(f"pinged {checks - probes:,} checks in {time.time() - t:.0f} s", file=sys.stderr)
# The probes: pinged over about 10 s, so their deadlines are spread over 10 s too.
probe_ids = [u for i, u in made if i < probes]
t = time.time()
for n in range(0, probes, 100):
    in_threads(ping, probe_ids[n:n + 100])
    time.sleep(max(0, t + (n + 100) / probes * 10 - time.time()))
PY
echo "waiting for the probes' deadlines (70 s)" >&2
sleep 70
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
kill "$server"; wait "$server" 2>/dev/null || true
server=

# Late flips of the probes: flip time minus the deadline (last ping + period).
sql="SELECT f.at - (ch.last_ping_at + ch.period_ms) FROM check_flips f JOIN checks ch ON ch.id = f.check_id
     WHERE f.new_state = 'late' AND ch.period_ms = 60000"
if [ "$engine" = PostgreSQL ]; then
  psql -tA "$TEND_BENCH_POSTGRES_URL" -c "$sql" >"$dir/lateness.txt"
  due=$(psql -tA "$TEND_BENCH_POSTGRES_URL" -c "SELECT COUNT(*) FROM checks WHERE next_due_at IS NOT NULL")
else
  python3 -c 'import sqlite3, sys
for (v,) in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(v)' "$dir/tend.db" "$sql" >"$dir/lateness.txt"
  due=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM checks WHERE next_due_at IS NOT NULL").fetchone()[0])' "$dir/tend.db")
fi
python3 - "$dir/lateness.txt" "$engine" "$checks" "$probes" "$hwm" "$rss" "$due" <<'PY'
import sys
late = sorted(int(l) for l in open(sys.argv[1]) if l.strip())
engine, checks, probes = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
hwm, rss, due = int(sys.argv[5]) / 1024, int(sys.argv[6]) / 1024, int(sys.argv[7])
pct = lambda p: late[min(len(late) - 1, round((len(late) - 1) * p))] / 1000 if late else float("nan")
print(f"| figure ({engine}, {checks:,} heartbeat checks, watcher every 1 s) | value |")
print("|---|---:|")
print(f"| checks with a running deadline | {due:,} |")
print(f"| missed deadlines noticed | {len(late):,} of {probes:,} |")
print(f"| deadline to late flip: median / p99 / max | {pct(0.5):.2f} / {pct(0.99):.2f} / {pct(1):.2f} s |")
print(f"| server memory: peak (VmHWM) / at the end (VmRSS) | {hwm:.0f} / {rss:.0f} MB |")
PY
