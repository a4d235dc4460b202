#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on loopback, for the cluster tests and benchmarks.
#
#   test/cluster/galera.sh up       start it (or reuse the one already up) and wait for wsrep_cluster_size=3
#   test/cluster/galera.sh down     stop the mariadbd processes it started (by their pids), remove its folder
#   test/cluster/galera.sh status   one line per node (exit 0 only when all three are Synced)
#
# Nodes: SQL 127.0.0.1:3311-3313 (root, no password), gcomm 4567-4569, IST 4577-4579 (explicit:
# the default, gcomm port + 1, is the next node's gcomm port), rsync SST 4471-4473. Each node has
# its own datadir, socket, log and pid under $BT_GALERA_DIR (default $TMPDIR/billettigue-galera).
# mariadbd runs as the `mysql` user when this script runs as root (rsync SST refuses root), with
# --defaults-file only (the machine's /etc/mysql is never read) and never touches the standalone
# MariaDB on 3306. Node 1 bootstraps the cluster (--wsrep-new-cluster) with a fresh datadir; nodes
# 2 and 3 start empty and receive theirs from it by rsync SST.
#
# Environment: BT_GALERA_DIR, BT_GALERA_BUFFER_POOL (default 64M), BT_GALERA_TIMEOUT (seconds per
# node, default 120), BT_GALERA_KEEP=1 (down keeps the folder: logs).
# Exit codes: 0 done · 1 failure (the node's log tail is printed) · 2 missing prerequisite
# (galera-4, rsync, mariadbd: the message names the Debian package).
set -euo pipefail

DIR="${BT_GALERA_DIR:-${TMPDIR:-/tmp}/billettigue-galera}"
PROVIDER=/usr/lib/galera/libgalera_smm.so
BUFFER_POOL="${BT_GALERA_BUFFER_POOL:-64M}"
TIMEOUT="${BT_GALERA_TIMEOUT:-120}"
NODES=(1 2 3)
GCOMM="gcomm://127.0.0.1:4567,127.0.0.1:4568,127.0.0.1:4569"

sql_port() { echo $((3310 + $1)); }
gcomm_port() { echo $((4566 + $1)); }
ist_port() { echo $((4576 + $1)); }
sst_port() { echo $((4470 + $1)); }
node_dir() { echo "$DIR/node$1"; }

say() { echo "galera.sh: $*" >&2; }
die() { say "$*"; exit 1; }
missing() { say "$*"; exit 2; }

client() { # client <node> <sql>: one query on a node, tab-separated, no headers
  mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$(sql_port "$1")" -uroot -N -B -e "$2" 2>/dev/null
}

status_var() { client "$1" "SHOW GLOBAL STATUS LIKE '$2'" | cut -f2; }

# The pid this script recorded for a node, when that process is still our mariadbd.
live_pid() {
  local f pid
  f="$(node_dir "$1")/pid"
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--defaults-file=$(node_dir "$1")/my.cnf" || return 1
  echo "$pid"
}

check_prerequisites() {
  [ -e "$PROVIDER" ] || missing "galera is not installed ($PROVIDER is missing): apt-get install galera-4"
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing "mariadbd is not installed: apt-get install mariadb-server"
  command -v mariadb-install-db >/dev/null || missing "mariadb-install-db is not installed: apt-get install mariadb-server"
  command -v rsync >/dev/null || missing "rsync is not installed (the nodes copy their data with rsync SST): apt-get install rsync"
  command -v ss >/dev/null || command -v lsof >/dev/null || missing "neither ss nor lsof is installed (rsync SST needs one): apt-get install iproute2"
}

run_as() { # the user mariadbd runs as
  if [ "$(id -u)" = 0 ]; then echo mysql; else id -un; fi
}

write_config() {
  local i=$1 d
  d="$(node_dir "$i")"
  cat >"$d/my.cnf" <<EOF
[mysqld]
user = $(run_as)
datadir = $d/data
socket = $d/mysqld.sock
pid-file = $d/mysqld.pid
log-error = $d/error.log
port = $(sql_port "$i")
bind-address = 127.0.0.1
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
performance_schema = OFF
max_connections = 400
local_infile = ON
innodb_buffer_pool_size = $BUFFER_POOL
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 2
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
wsrep_on = ON
wsrep_provider = $PROVIDER
wsrep_cluster_name = billettigue_test
wsrep_cluster_address = $GCOMM
wsrep_node_name = node$i
wsrep_node_address = 127.0.0.1:$(gcomm_port "$i")
wsrep_node_incoming_address = 127.0.0.1:$(sql_port "$i")
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$i");ist.recv_addr=127.0.0.1:$(ist_port "$i");gcache.size=256M"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:$(sst_port "$i")
wsrep_slave_threads = 2
EOF
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_node() { # start_node <i> [--wsrep-new-cluster]
  local i=$1 d pid
  shift
  d="$(node_dir "$i")"
  for p in "$(sql_port "$i")" "$(gcomm_port "$i")" "$(ist_port "$i")" "$(sst_port "$i")"; do
    port_busy "$p" && die "port $p (node $i) is already in use by a process this script did not start: stop it or change BT_GALERA_DIR's cluster"
  done
  # 9>&-: mariadbd must not inherit the flock of `serialize`, or it would hold it for its whole
  # life and the next `down` would wait for it forever.
  setsid /usr/sbin/mariadbd --defaults-file="$d/my.cnf" "$@" </dev/null >>"$d/stdout.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$d/pid"
  say "node $i: mariadbd pid $pid, SQL port $(sql_port "$i")${1:+ ($1)}"
}

wait_synced() { # wait_synced <i>
  local i=$1 state
  for _ in $(seq 1 $((TIMEOUT * 4))); do
    if ! live_pid "$i" >/dev/null; then
      tail -n 25 "$(node_dir "$i")/error.log" >&2 || true
      die "node $i: mariadbd exited while starting (log: $(node_dir "$i")/error.log)"
    fi
    state="$(status_var "$i" wsrep_local_state_comment || true)"
    [ "$state" = Synced ] && return 0
    sleep 0.25
  done
  tail -n 25 "$(node_dir "$i")/error.log" >&2 || true
  die "node $i: not Synced after ${TIMEOUT}s (state: ${state:-no answer}; log: $(node_dir "$i")/error.log)"
}

wait_size() {
  local size
  for _ in $(seq 1 $((TIMEOUT * 4))); do
    size="$(status_var 1 wsrep_cluster_size || true)"
    [ "$size" = 3 ] && return 0
    sleep 0.25
  done
  die "wsrep_cluster_size is ${size:-unknown}, expected 3 after ${TIMEOUT}s"
}

running_nodes() {
  local n=0
  for i in "${NODES[@]}"; do live_pid "$i" >/dev/null && n=$((n + 1)); done
  echo "$n"
}

cmd_up() {
  check_prerequisites
  local started
  started=$(date +%s)
  if [ "$(running_nodes)" = 0 ]; then
    [ -d "$DIR" ] && rm -rf "$DIR"
    for i in "${NODES[@]}"; do mkdir -p "$(node_dir "$i")/data"; write_config "$i"; done
    [ "$(id -u)" = 0 ] && chown -R mysql:mysql "$DIR"
    say "initialising node 1's datadir in $DIR"
    if [ "$(id -u)" = 0 ]; then
      mariadb-install-db --no-defaults --user=mysql --datadir="$(node_dir 1)/data" --auth-root-authentication-method=normal --skip-test-db >"$(node_dir 1)/install.log" 2>&1 ||
        { tail -n 20 "$(node_dir 1)/install.log" >&2; die "mariadb-install-db failed"; }
    else
      mariadb-install-db --no-defaults --datadir="$(node_dir 1)/data" --auth-root-authentication-method=normal --skip-test-db >"$(node_dir 1)/install.log" 2>&1 ||
        { tail -n 20 "$(node_dir 1)/install.log" >&2; die "mariadb-install-db failed"; }
    fi
    start_node 1 --wsrep-new-cluster
    wait_synced 1
    # skip-name-resolve: TCP clients from 127.0.0.1 need their own account (replicated: TOI).
    client 1 "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION" ||
      mariadb --no-defaults -S "$(node_dir 1)/mysqld.sock" -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION" ||
      die "could not create root@127.0.0.1 on node 1"
  else
    say "reusing the cluster in $DIR ($(running_nodes) of 3 nodes running)"
    live_pid 1 >/dev/null || die "node 1 is down but others run: run \`$0 down\` then \`$0 up\`"
  fi
  # Joiners one at a time: node 1 donates one SST at a time.
  for i in 2 3; do
    if ! live_pid "$i" >/dev/null; then
      rm -rf "$(node_dir "$i")/data" && mkdir -p "$(node_dir "$i")/data"
      [ "$(id -u)" = 0 ] && chown mysql:mysql "$(node_dir "$i")/data"
      start_node "$i"
    fi
    wait_synced "$i"
  done
  wait_size
  say "cluster up in $(($(date +%s) - started)) s: wsrep_cluster_size=3, SQL ports 3311 3312 3313"
}

cmd_down() {
  local pids=() pid
  for i in 3 2 1; do
    if pid="$(live_pid "$i")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for _ in $(seq 1 240); do
    local alive=0
    for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.25
  done
  for pid in "${pids[@]}"; do
    if [ -e "/proc/$pid" ]; then
      say "pid $pid did not stop within 60 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  [ ${#pids[@]} -gt 0 ] && say "stopped ${#pids[@]} node(s) (pids ${pids[*]})"
  if [ "${BT_GALERA_KEEP:-}" != 1 ] && [ -d "$DIR" ]; then rm -rf "$DIR"; fi
  return 0
}

cmd_status() {
  local ok=0
  for i in "${NODES[@]}"; do
    local pid state size
    if pid="$(live_pid "$i")"; then
      state="$(status_var "$i" wsrep_local_state_comment || echo '?')"
      size="$(status_var "$i" wsrep_cluster_size || echo '?')"
      echo "node$i pid=$pid port=$(sql_port "$i") state=$state cluster_size=$size"
      [ "$state" = Synced ] || ok=1
    else
      echo "node$i down"
      ok=1
    fi
  done
  return $ok
}

# One up or down at a time (two test runs starting the cluster at once would share a datadir).
serialize() {
  if command -v flock >/dev/null; then
    exec 9>"$DIR.lock"
    flock 9
  fi
}

case "${1:-}" in
  up) serialize; cmd_up ;;
  down) serialize; cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
