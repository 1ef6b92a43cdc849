# What the load benches share, sourced by each (bash, `set -euo pipefail` already on):
# the binary, a scratch data directory removed on exit, the engine, a free port, and a
# running `tend serve`. After `bench_setup`: $bin, $dir, $engine, $port; `bench_serve
# ARGS…` starts the server (its pid in $server, stopped on exit) and waits for it.
#
# TEND_BENCH_BIN: a tend binary already built (else the release build is made here).
# TEND_BENCH_POSTGRES_URL: an empty PostgreSQL database to run on (else SQLite).
# TEND_BENCH_PORT: the port (else the first free one from 18100).

bench_setup() {
  if [ -n "${TEND_BENCH_BIN:-}" ]; then
    bin=$TEND_BENCH_BIN
  else
    cargo build --release --quiet --bin tend
    bin=${CARGO_TARGET_DIR:-target}/release/tend
  fi
  dir=$(mktemp -d)
  server=
  trap bench_cleanup EXIT
  export TEND_DATA_DIR="$dir" TEND_LOG=warn
  if [ -n "${TEND_BENCH_POSTGRES_URL:-}" ]; then
    export TEND_DATABASE_URL="$TEND_BENCH_POSTGRES_URL"
    engine=PostgreSQL
  else
    unset TEND_DATABASE_URL
    engine=SQLite
  fi
  port=${TEND_BENCH_PORT:-$(python3 -c '
import socket
for p in range(18100, 18200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()
')}
  "$bin" migrate >/dev/null
  "$bin" client add --name "Bench Agency Client" --slug bench --timezone UTC --plan GROWTH >/dev/null
}

bench_cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$dir"
}

# Starts `tend serve` on $port with the given extra arguments; waits until it answers.
bench_serve() {
  "$bin" serve --listen "127.0.0.1:$port" "$@" >"$dir/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
}
