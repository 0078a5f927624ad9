# Shared by scripts/up and scripts/test: install the system packages flashgate needs when they
# are missing (Debian/Ubuntu), so both commands work on a fresh machine with only Rust on it.

# ensure_packages COMMAND:PACKAGE ...  installs PACKAGE when COMMAND is not on PATH (or, when
# COMMAND is an absolute path, when nothing is there).
ensure_packages() {
  local missing=()
  for pair in "$@"; do
    local command=${pair%%:*} package=${pair#*:}
    if [[ $command == /* ]]; then
      [ -e "$command" ] || missing+=("$package")
    else
      command -v "$command" >/dev/null 2>&1 || missing+=("$package")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing missing system packages: ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# What building and running flashgate needs: a C toolchain and cmake for Pingora's zlib-ng,
# and redis-server for the stack and the tests.
ensure_build_and_run_packages() {
  ensure_packages cc:gcc cmake:cmake redis-server:redis-server
}

# The page tests drive Debian's Chromium through ChromeDriver; a font keeps their screenshots
# legible; NSS's certutil puts the test CA in a browser profile's trust store for the https page.
ensure_browser_packages() {
  ensure_packages chromium:chromium chromedriver:chromium-driver \
    /usr/share/fonts/truetype/liberation:fonts-liberation certutil:libnss3-tools
}

# The alert rules' unit tests run with promtool, which Debian ships in its prometheus package.
ensure_monitoring_packages() {
  ensure_packages promtool:prometheus
}

# The ledger tests also run against PostgreSQL: install it if missing, start its cluster, and
# provide a role that may create one database per test. Exports FLASHGATE_TEST_POSTGRES.
ensure_test_postgres() {
  ensure_packages pg_ctlcluster:postgresql
  local as_postgres="runuser -u postgres --"
  [ "$(id -u)" -eq 0 ] || as_postgres="sudo -u postgres"
  if ! pg_lsclusters -h | grep -q .; then
    local version
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    $as_postgres pg_createcluster "$version" main >/dev/null
  fi
  pg_lsclusters -h | while read -r version cluster port status _; do
    [ "$status" = online ] || pg_ctlcluster "$version" "$cluster" start
  done
  local port
  port=$(pg_lsclusters -h | awk '{print $3; exit}')
  $as_postgres psql -p "$port" -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'flashgate'" | grep -q 1 ||
    $as_postgres psql -p "$port" -qc "CREATE ROLE flashgate LOGIN CREATEDB PASSWORD 'flashgate'"
  export FLASHGATE_TEST_POSTGRES="postgres://flashgate:flashgate@127.0.0.1:$port/postgres"
}

# Ports for benchmark scripts, with nothing but bash (no python or curl on a fresh machine).
# Servers get ports below the kernel's ephemeral range, which client sockets (a load run opens
# thousands) draw from: a port picked there can be taken by a client before the server binds it.
# free_ports N prints N distinct ports (one call, so no two callers pick the same one).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ephemeral_low() { local low _; read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && echo "$low" || echo 32768; }
free_ports() {
  local p high picked=" " count=0
  high=$(( $(ephemeral_low) - 1 ))
  for p in $(shuf -i "10000-$high" -n 500); do
    [ "$count" -ge "$1" ] && break
    [[ $picked == *" $p "* ]] && continue
    port_open "$p" && continue
    picked+="$p "
    count=$((count + 1))
  done
  [ "$count" -ge "$1" ] || { echo "not enough free ports below the ephemeral range" >&2; return 1; }
  echo $picked
}
# wait_port PORT [LOG]: waits for a listener; on failure prints LOG, the failing component's.
wait_port() {
  for _ in $(seq 200); do port_open "$1" && return 0; sleep 0.05; done
  echo "nothing listens on $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && { echo "--- $2:" >&2; tail -n 50 "$2" >&2; }
  return 1
}

# share_epoch: the instant every component this script starts counts "+DURATION" times from
# (edges and origins started on their own refuse relative times without it; `up` sets its own).
share_epoch() { export FLASHGATE_EPOCH_MS=${FLASHGATE_EPOCH_MS:-$(date +%s%3N)}; }

# wrk_with_cpu PIDS... -- WRK_ARGS...: one wrk run; prints "REQ/S US-CPU-PER-REQUEST", the CPU
# time (utime + stime, all threads) the processes PIDS spent per request during it.
wrk_with_cpu() {
  local pids=() before out after pid
  while [ "$1" != "--" ]; do pids+=("$1"); shift; done; shift
  cpu_ticks() { local t=0; for pid in "${pids[@]}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done; echo "$t"; }
  before=$(cpu_ticks)
  out=$(wrk "$@")
  after=$(cpu_ticks)
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /^Requests\/sec/ { rps = $2 } /requests in/ { n = $1 }
    END { printf "%s %.1f\n", rps, (n > 0 ? t / hz * 1e6 / n : 0) }' <<<"$out"
}
