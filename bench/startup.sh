#!/usr/bin/env bash
# Start-up and idle memory of `tend serve` on an existing SQLite database.
# Prints: time from exec to the first 200 on /healthz (median of 10 starts), and the
# resident memory (VmRSS) of the idle server one second after start-up.
# Usage: bench/startup.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin tend
bin=target/release/tend
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export TEND_DATA_DIR="$dir" TEND_LOG=warn
"$bin" demo >/dev/null

python3 - "$bin" <<'PY'
import os, socket, statistics, subprocess, sys, time
binary = sys.argv[1]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def healthz(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as c:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return c.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False

times, rss = [], []
for run in range(10):
    port = free_port()
    start = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not healthz(port):
        if time.perf_counter() - start > 10:
            p.kill(); sys.exit("tend serve did not answer within 10 s")
        time.sleep(0.0005)
    times.append((time.perf_counter() - start) * 1000)
    time.sleep(1)
    with open(f"/proc/{p.pid}/status") as f:
        rss.append(next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024)
    p.terminate(); p.wait()

print("| figure (SQLite, existing database) | median | min | max |")
print("|---|---:|---:|---:|")
print(f"| start-up to first 200 on /healthz | {statistics.median(times):.1f} ms | {min(times):.1f} ms | {max(times):.1f} ms |")
print(f"| idle RSS 1 s after start-up | {statistics.median(rss):.1f} MB | {min(rss):.1f} MB | {max(rss):.1f} MB |")
PY
