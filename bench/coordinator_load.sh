#!/usr/bin/env bash
# The coordinator load benchmark (bench/README.md, "Coordinator load"):
#   1. `tailsweep serve` on a fresh database, and tailsweep-loadgen's simulated
#      agents against it: completed jobs/s, lease latency, the coordinator's
#      peak RSS and CPU time;
#   2. in the same run, nginx serving a small static JSON file to wrk with as
#      many connections: the loopback ceiling of this machine.
# Prints a markdown table; --out FILE also writes it there.
#
#   bench/coordinator_load.sh [--agents 1000] [--workloads 20] [--duration-s 120]
#       [--paced-jobs-per-s-per-agent 1] [--wrk-duration-s 10] [--build-dir DIR]
#       [--out results/bench/coordinator-load.md]
#       [--keep-json DIR] [--fault-proxy SHARE] [-- extra `tailsweep serve` options]
#
# --fault-proxy SHARE adds two more paced runs with the agents behind
# bench/faultproxy.py: one with no faults (what the proxy itself costs) and
# one with SHARE (0-1) of the requests dropped, reset, delayed or truncated.
#
# Everything listens on 127.0.0.1. Only processes this script started are stopped,
# by their PIDs; the temporary directory is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

AGENTS=1000
WORKLOADS=20
DURATION_S=120
PACED_RATE=1  # jobs/s per agent in the second, paced run (0: skip it)
WRK_DURATION_S=10
BUILD_DIR=${BUILD_DIR:-build}
OUT=""
KEEP_JSON=""
FAULT_SHARE=""
SERVE_EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --agents) AGENTS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --duration-s) DURATION_S=$2; shift 2 ;;
    --paced-jobs-per-s-per-agent) PACED_RATE=$2; shift 2 ;;
    --wrk-duration-s) WRK_DURATION_S=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep-json) KEEP_JSON=$2; shift 2 ;;
    --fault-proxy) FAULT_SHARE=$2; shift 2 ;;
    --) shift; SERVE_EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "coordinator_load.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "coordinator_load: $*" >&2; }

# ---- dependencies (Debian packages; nothing is downloaded from elsewhere) ----
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v jq >/dev/null || missing+=(jq)
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || missing+=(nginx-light)
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  SUDO=(); [[ $(id -u) -eq 0 ]] || SUDO=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q >/dev/null
  if ! "${SUDO[@]}" apt-get install -y -q "${missing[@]}" >/dev/null; then
    # Some releases ship only the full package.
    "${SUDO[@]}" apt-get install -y -q "${missing[@]/nginx-light/nginx}" >/dev/null
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ---- build (coordinator + load generator only; no LibTorch needed) ----
if [[ ! -x $BUILD_DIR/bin/tailsweep || ! -x $BUILD_DIR/bin/tailsweep-loadgen ]]; then
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DTAILSWEEP_BUILD_AGENT=OFF -DTAILSWEEP_BUILD_TESTS=OFF >/dev/null
  fi
  log "building tailsweep and tailsweep-loadgen in $BUILD_DIR"
  nice -n 10 cmake --build "$BUILD_DIR" -j "$(nproc)" --target tailsweep tailsweep-loadgen >/dev/null
fi

TMP=$(mktemp -d /tmp/tailsweep-load.XXXXXX)
chmod 755 "$TMP"  # nginx's workers drop root and must read the static file
SERVE_PID=""
NGINX_PID=""
PROXY_PID=""
stop_pid() {  # stops one process this script started, by its PID
  local pid=$1
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop_pid "$PROXY_PID"
  stop_pid "$SERVE_PID"
  stop_pid "$NGINX_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT

token() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
# A process's figure from /proc/PID/status, in kB (VmHWM: peak resident set).
status_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
# User + system CPU seconds a process has used (fields 14 and 15 of stat).
cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat"
}
wait_for_port() {  # PORT PID: until something accepts on 127.0.0.1:PORT
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# ---- 1. the coordinator under simulated agents ----
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)  # other work on the machine skews everything
# The load generator's one sweep holds every job (serve refuses more than
# 10,000 in a sweep by default).
SWEEP_JOBS=$((AGENTS * WORKLOADS > 10000 ? AGENTS * WORKLOADS : 10000))
# coordinator_run LABEL [loadgen options]: a fresh coordinator on a fresh
# database, the load generator against it (through bench/faultproxy.py with
# $PROXY_SHARE of requests faulted, when that is set); leaves
# $TMP/LABEL.json and the coordinator's CPU seconds and peak RSS (kB) in
# $TMP/LABEL.cpu_s, .hwm_kb.
coordinator_run() {
  local label=$1; shift
  local enroll_token admin_token port cpu_before_s agent_port
  enroll_token=$(token)
  admin_token=$(token)
  TAILSWEEP_ENROLL_TOKEN=$enroll_token TAILSWEEP_ADMIN_TOKEN=$admin_token \
    "$BUILD_DIR/bin/tailsweep" serve --db "$TMP/$label.db" --listen 127.0.0.1:0 \
    --port-file "$TMP/$label.port" --max-sweep-jobs "$SWEEP_JOBS" "${SERVE_EXTRA[@]}" \
    2>"$TMP/$label-serve.log" &
  SERVE_PID=$!
  for _ in $(seq 100); do [[ -s $TMP/$label.port ]] && break; sleep 0.1; done
  if [[ ! -s $TMP/$label.port ]]; then
    cat "$TMP/$label-serve.log" >&2; log "the coordinator did not start"; exit 1
  fi
  port=$(cat "$TMP/$label.port")
  log "$label: coordinator pid $SERVE_PID on port $port; $AGENTS agents x $WORKLOADS jobs $*"
  agent_port=$port
  if [[ -n ${PROXY_SHARE:-} ]]; then
    python3 bench/faultproxy.py --target-port "$port" --fault-share "$PROXY_SHARE" \
      --port-file "$TMP/$label.proxy-port" --counts-file "$TMP/$label.faults.json" \
      2>"$TMP/$label-proxy.log" &
    PROXY_PID=$!
    for _ in $(seq 100); do [[ -s $TMP/$label.proxy-port ]] && break; sleep 0.1; done
    [[ -s $TMP/$label.proxy-port ]] || { cat "$TMP/$label-proxy.log" >&2; log "the proxy did not start"; exit 1; }
    agent_port=$(cat "$TMP/$label.proxy-port")
  fi
  cpu_before_s=$(cpu_s "$SERVE_PID")
  # Only the agents go through the proxy: the one admin request (the sweep)
  # is retried by no one, and a fault there would end the run.
  TAILSWEEP_ENROLL_TOKEN=$enroll_token TAILSWEEP_ADMIN_TOKEN=$admin_token \
    "$BUILD_DIR/bin/tailsweep-loadgen" --port "$agent_port" --admin-port "$port" --agents "$AGENTS" \
    --workloads "$WORKLOADS" --duration-s "$DURATION_S" --out "$TMP/$label.json" "$@" >/dev/null
  awk -v a="$(cpu_s "$SERVE_PID")" -v b="$cpu_before_s" 'BEGIN {print a - b}' >"$TMP/$label.cpu_s"
  kill -0 "$SERVE_PID" 2>/dev/null || { tail -n 20 "$TMP/$label-serve.log" >&2; log "$label: the coordinator died"; exit 1; }
  status_kb "$SERVE_PID" VmHWM >"$TMP/$label.hwm_kb"
  if [[ -n $PROXY_PID ]]; then
    kill -TERM "$PROXY_PID"; wait "$PROXY_PID" || true; PROXY_PID=""
  fi
  stop_pid "$SERVE_PID"; SERVE_PID=""
}
# Saturation: every agent leases again as soon as it posted.
coordinator_run saturating
# Below saturation: each agent paced, to see latency at a sustainable rate.
if awk -v r="$PACED_RATE" 'BEGIN {exit !(r > 0)}'; then
  coordinator_run paced --jobs-per-s-per-agent "$PACED_RATE"
  if [[ -n $FAULT_SHARE ]]; then
    PROXY_SHARE=0 coordinator_run proxied --jobs-per-s-per-agent "$PACED_RATE"
    PROXY_SHARE=$FAULT_SHARE coordinator_run faulty --jobs-per-s-per-agent "$PACED_RATE"
  fi
fi

# ---- 2. the loopback ceiling: nginx, a static JSON file, wrk ----
mkdir -p "$TMP/www"
echo '{"job": null}' >"$TMP/www/lease.json"  # the size of an empty lease answer
NGINX_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$TMP/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
    location / { default_type application/json; }
  }
}
EOF
"$NGINX" -c "$TMP/nginx.conf" -p "$TMP" 2>>"$TMP/nginx-error.log" &
NGINX_PID=$!
wait_for_port "$NGINX_PORT" "$NGINX_PID" || { cat "$TMP/nginx-error.log" >&2; log "nginx did not start"; exit 1; }
log "nginx pid $NGINX_PID on port $NGINX_PORT; wrk -t2 -c$AGENTS -d${WRK_DURATION_S}s"
nginx_pids() { echo "$NGINX_PID"; ps -o pid= --ppid "$NGINX_PID"; }
NGINX_CPU_BEFORE_S=0
for pid in $(nginx_pids); do NGINX_CPU_BEFORE_S=$(awk -v a="$NGINX_CPU_BEFORE_S" -v b="$(cpu_s "$pid")" 'BEGIN {print a + b}'); done
wrk -t2 -c"$AGENTS" -d"${WRK_DURATION_S}s" --latency "http://127.0.0.1:$NGINX_PORT/lease.json" >"$TMP/wrk.txt"
NGINX_CPU_S=0
NGINX_HWM_KB=0
for pid in $(nginx_pids); do
  NGINX_CPU_S=$(awk -v a="$NGINX_CPU_S" -v b="$(cpu_s "$pid")" 'BEGIN {print a + b}')
  NGINX_HWM_KB=$((NGINX_HWM_KB + $(status_kb "$pid" VmHWM)))
done
NGINX_CPU_S=$(awk -v a="$NGINX_CPU_S" -v b="$NGINX_CPU_BEFORE_S" 'BEGIN {print a - b}')
stop_pid "$NGINX_PID"; NGINX_PID=""

# ---- the table ----
if [[ -n $KEEP_JSON ]]; then
  mkdir -p "$KEEP_JSON" && cp "$TMP"/*.json "$TMP/wrk.txt" "$KEEP_JSON/"
fi
L=$TMP/saturating.json
j() { jq -r "$1" "$L"; }
SERVE_CPU_S=$(cat "$TMP/saturating.cpu_s")
SERVE_HWM_KB=$(cat "$TMP/saturating.hwm_kb")
# wrk prints latencies as 1.23ms / 456.00us / 1.20s: to milliseconds.
wrk_ms() {
  awk -v q="$1" '$1 == q {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000}
    else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}
    printf "%.2f", v}' "$TMP/wrk.txt"
}
WRK_RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$TMP/wrk.txt")
WRK_ERRORS=$(awk '/Socket errors|Non-2xx/ {sub(/^ +/, ""); printf "%s; ", $0}' "$TMP/wrk.txt")
ELAPSED_S=$(j .elapsed_s)
JOBS_PER_S=$(j '.jobs_per_s | floor')
P99_MS=$(j .lease_latency_ms.p99_ms)
RSS_MB=$(awk -v kb="$SERVE_HWM_KB" 'BEGIN {printf "%.1f", kb / 1024}')
verdict() { if awk "BEGIN {exit !($1)}"; then echo "met"; else echo "**not met**"; fi; }
fmt2() { awk -v v="$1" 'BEGIN {printf "%.2f", v}'; }
cores() { awk -v c="$1" -v s="$2" 'BEGIN {printf "%.2f", (s > 0 ? c / s : 0)}'; }

# Rows for the paced run, if there was one.
paced_rows() {
  [[ -f $TMP/paced.json ]] || return 0
  local p=$TMP/paced.json
  echo "| paced run: offered $(jq -r '.requested.offered_jobs_per_s' "$p") jobs/s ($PACED_RATE per agent) | $(jq -r '.jobs_per_s | floor' "$p") completed jobs/s, $(jq -r .jobs_completed "$p") jobs, $(jq -r .errors_total "$p") errors | | |"
  echo "| paced run: lease latency p50 / p90 / p99 / max | $(fmt2 "$(jq -r .lease_latency_ms.p50_ms "$p")") / $(fmt2 "$(jq -r .lease_latency_ms.p90_ms "$p")") / $(fmt2 "$(jq -r .lease_latency_ms.p99_ms "$p")") / $(fmt2 "$(jq -r .lease_latency_ms.max_ms "$p")") ms | <= 50 ms (p99): $(verdict "$(jq -r .lease_latency_ms.p99_ms "$p") <= 50") | |"
  echo "| paced run: peak RSS, server CPU | $(awk -v kb="$(cat "$TMP/paced.hwm_kb")" 'BEGIN {printf "%.1f", kb / 1024}') MB, $(cores "$(cat "$TMP/paced.cpu_s")" "$(jq -r '.register_phase_s + .sweep_create_s + .work_phase_s' "$p")") cores | | |"
}

# Rows for the runs through the fault proxy, if there were any.
proxy_rows() {
  [[ -f $TMP/faulty.json ]] || return 0
  local label p f
  for label in proxied faulty; do
    p=$TMP/$label.json
    f=$TMP/$label.faults.json
    if [[ $label == proxied ]]; then
      echo -n "| paced through bench/faultproxy.py, no faults (the proxy's own cost) "
    else
      echo -n "| paced through bench/faultproxy.py, $(jq -r '[.drop, .reset, .delay, .truncate] | add' "$f") of $(jq -r .requests "$f") requests faulted ($(jq -r '"\(.drop) dropped, \(.reset) reset, \(.delay) delayed, \(.truncate) truncated"' "$f")) "
    fi
    echo "| $(jq -r .jobs_completed "$p") of $(jq -r .jobs_planned "$p") jobs, $(jq -r '.jobs_per_s | floor' "$p") jobs/s, $(jq -r .agents_registered "$p") agents registered; lease p50 / p99 / max $(fmt2 "$(jq -r .lease_latency_ms.p50_ms "$p")") / $(fmt2 "$(jq -r .lease_latency_ms.p99_ms "$p")") / $(fmt2 "$(jq -r .lease_latency_ms.max_ms "$p")") ms; $(jq -r .reconnects "$p") reconnects; $(jq -r .errors_total "$p") errors at the agents $(jq -r '.errors | to_entries | map("\(.key): \(.value)") | join(", ") | if . == "" then "" else "(" + . + ")" end' "$p") | coordinator alive, peak RSS $(awk -v kb="$(cat "$TMP/$label.hwm_kb")" 'BEGIN {printf "%.1f", kb / 1024}') MB | |"
  done
}

TABLE=$(cat <<EOF
## Coordinator load: $AGENTS simulated agents, one coordinator

| metric | tailsweep coordinator | target | nginx static (ceiling) |
|---|---|---|---|
| throughput (closed loop: lease again at once) | $JOBS_PER_S completed jobs/s ($(j .jobs_completed) of $(j .jobs_planned) jobs in $(fmt2 "$ELAPSED_S") s; 2 requests each) | >= 2,000 jobs/s: $(verdict "$JOBS_PER_S >= 2000") | $WRK_RPS requests/s |
| lease latency p50 (leases that got a job) | $(fmt2 "$(j .lease_latency_ms.p50_ms)") ms | | $(wrk_ms 50%) ms (any request) |
| lease latency p90 | $(fmt2 "$(j .lease_latency_ms.p90_ms)") ms | | $(wrk_ms 90%) ms |
| lease latency p99 | $(fmt2 "$P99_MS") ms | <= 50 ms: $(verdict "$P99_MS <= 50") | $(wrk_ms 99%) ms |
| lease latency max | $(fmt2 "$(j .lease_latency_ms.max_ms)") ms | | |
| result post p50 / p99 | $(fmt2 "$(j .result_latency_ms.p50_ms)") / $(fmt2 "$(j .result_latency_ms.p99_ms)") ms | | |
| peak RSS (VmHWM) | $RSS_MB MB | <= 200 MB: $(verdict "$RSS_MB <= 200") | $(awk -v kb="$NGINX_HWM_KB" 'BEGIN {printf "%.1f", kb / 1024}') MB (master + workers) |
| server CPU (cores busy, averaged over the whole load-generator run incl. its idle tail) | $(cores "$SERVE_CPU_S" "$(j '.register_phase_s + .sweep_create_s + .work_phase_s')") | | $(cores "$NGINX_CPU_S" "$WRK_DURATION_S") |
| client CPU (cores busy on average) | loadgen $(cores "$(j .loadgen_cpu_s)" "$(j .work_phase_s)") | | wrk: not measured |
| connections | $(j .agents_registered) agents, one keep-alive connection each ($(j .reconnects) reconnects) | | $AGENTS (wrk -t2) |
| errors | $(j .errors_total) $(j '.errors | to_entries | map("\(.key): \(.value)") | join(", ") | if . == "" then "" else "(" + . + ")" end') | | ${WRK_ERRORS:-none} |
$(paced_rows)
$(proxy_rows)

- Machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr); load average before the run: $LOADAVG_BEFORE.
- Date: $(date -u +%Y-%m-%dT%H:%MZ). tailsweep $(j .version) ($(j .git_sha)), \`tailsweep serve\` defaults but \`--max-sweep-jobs $SWEEP_JOBS\` (the one sweep holds every job)${SERVE_EXTRA:+ plus ${SERVE_EXTRA[*]}}.
- Work: one sweep of $WORKLOADS curve-only workloads ($(j .requested.model), tokens $(j .requested.tokens)) over the $(j .agents_registered) simulated devices: one profile job per (device, workload). Each agent leases (long poll, wait $(j .requested.lease_wait_s) s) and at once posts a synthetic result that the coordinator parses and stores in full. Registration ($(fmt2 "$(j .register_phase_s)") s) and planning the sweep ($(fmt2 "$(j .sweep_create_s)") s) are not in the throughput.
- In the closed loop every agent always has a request in flight, so mean latency is about agents / requests per second (Little's law): with $AGENTS agents, a p99 of 50 ms needs well over $((AGENTS * 20)) requests/s. The paced run offers a fixed rate below saturation, the regime real agents (seconds of profiling per job) live in.
- Latency is request sent to response read, measured in the load generator, so it includes the load generator's own queueing. The load generator, the coordinator, nginx and wrk share this machine's cores.
EOF
)
echo "$TABLE"
if [[ -n $OUT ]]; then
  mkdir -p "$(dirname "$OUT")"
  echo "$TABLE" >"$OUT"
  log "wrote $OUT"
fi
