# Shared by testcluster's commands: constants, checks, locks, host records, ssh/exec/status.
# shellcheck shell=bash

CCT_DEFAULT_STATE=/tmp/clusterctl-testcluster
CCT_PREFIX=cct-                # netns and veth names: cct-mc1, ...
CCT_BRIDGE=cctbr0
CCT_NET=198.18.0               # benchmarking range, /24; never anything else
CCT_FIRST_HOST=11
CCT_MAX_HOSTS=244              # .11 .. .254
CCT_MARKER=.clusterctl-testcluster
# The debian12 hosts' apt mirror: an address on the bridge inside cct-switch (so it lives and dies with that
# namespace), below the hosts' range.
CCT_MIRROR_ADDR=$CCT_NET.2
CCT_MIRROR_PORT=80
# Held (flock) for the duration of one up/down, machine-wide: there is one bridge and one subnet.
CCT_MACHINE_LOCK=/run/lock/clusterctl-testcluster.lock
# Held by a test fixture (TestCluster.swift) for the whole life of its cluster. The CLI refuses up/down
# while someone else holds it, unless the caller says it is the holder (CCT_SESSION_LOCK_HELD=1).
CCT_SESSION_LOCK=/run/lock/clusterctl-testcluster.session.lock

die() { echo "testcluster: $*" >&2; exit 1; }
note() { echo "testcluster: $*" >&2; }

cct_require_root() {
  [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, overlay mounts, bridge); run with sudo"
}

# Only plain absolute paths: STATE ends up in mount options, sshd_config and the inventory JSON.
cct_check_state_path() {
  local p=$1
  case $p in /*) ;; *) p=$PWD/$p ;; esac
  p=${p%/}
  [[ $p =~ ^/[A-Za-z0-9._/-]+$ ]] || die "--state must be a path of letters, digits and . _ / - (got '$1')"
  case "/$p/" in */../*|*/./*) die "--state must not contain . or .. components (got '$1')" ;; esac
  case $p in /|/tmp|/var|/etc|/usr|/root|/home|/run) die "--state $p is a system directory" ;; esac
  # Each host overlays these with upper dirs in STATE; overlayfs refuses an upper dir inside its lower dir.
  case $p/ in /etc/*|/usr/*|/var/*|/root/*|/home/*|/run/*|/bin/*|/sbin/*|/lib/*)
    die "--state must not be under /etc, /usr, /var, /root, /home or /run (the hosts overlay those): $p" ;; esac
  echo "$p"
}

cct_check_session_lock() {
  [ "${CCT_SESSION_LOCK_HELD:-0}" = 1 ] && return 0
  mkdir -p "$(dirname "$CCT_SESSION_LOCK")"
  if ! flock -n "$CCT_SESSION_LOCK" true; then
    die "a test cluster is in use by a test run (lock $CCT_SESSION_LOCK held); wait for it to finish"
  fi
}

cct_with_machine_lock() {
  mkdir -p "$(dirname "$CCT_MACHINE_LOCK")"
  exec 9>"$CCT_MACHINE_LOCK"
  flock -w 300 9 || die "timed out waiting for $CCT_MACHINE_LOCK"
}

# Host records: STATE/hosts.tsv, one "NAME ADDRESS ROLES" line per host (ROLES comma-separated or -).
cct_hosts() { [ -f "$1/hosts.tsv" ] && cat "$1/hosts.tsv"; }

cct_host_address() {
  local state=$1 name=$2 n a r
  while read -r n a r; do [ "$n" = "$name" ] && { echo "$a"; return 0; }; done < <(cct_hosts "$state")
  die "no host '$name' in $state/hosts.tsv (is the cluster up? see: testcluster status)"
}

# Host profiles: STATE/profiles.tsv, one "NAME PROFILE" line per host (hosts.tsv keeps el5's 3 columns).
# A cluster made before profiles.tsv existed is all one profile, STATE/profile.
cct_host_profile() {
  local p
  p=$(awk -v h="$2" '$1 == h {print $2}' "$1/profiles.tsv" 2>/dev/null)
  [ -n "$p" ] || p=$(cat "$1/profile" 2>/dev/null || echo el5)
  echo "$p"
}

# Profiles whose hosts boot a real systemd under systemd-nspawn (lib/debian12.bash; el9/el7: lib/el.bash).
cct_nspawn_profile() { case $1 in debian12|el9|el7) return 0 ;; esac; return 1; }
cct_nspawn_host() { cct_nspawn_profile "$(cct_host_profile "$1" "$2")"; }
cct_el_profile() { case $1 in el9|el7) return 0 ;; esac; return 1; }

cct_host_init_pid() {
  local f=$1/hosts/$2/init.pid
  [ -s "$f" ] || return 1
  local pid; pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

cct_ssh_options() {
  local state=$1
  printf '%s\n' -i "$state/id_ed25519" -o IdentitiesOnly=yes -o "UserKnownHostsFile=$state/known_hosts" \
    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 \
    -o LogLevel=ERROR
}

cct_ssh() {
  local state=$1 user=$2 host=$3; shift 3
  local addr; addr=$(cct_host_address "$state" "$host")
  local opts; mapfile -t opts < <(cct_ssh_options "$state"; cct_reach_ssh_options "$state" "$addr")
  exec ssh "${opts[@]}" "$user@$addr" "$@"
}

# Close every fd but 0-2 in the current shell. Long-lived processes (host inits, daemons started through
# `exec`) must not inherit the caller's descriptors: swift-corelibs-foundation's Process, for one, only
# notices that its child exited when a socket it passed down is closed by every holder.
cct_close_fds() {
  local fd
  for fd in $(ls "/proc/$BASHPID/fd"); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

cct_exec() {
  local state=$1 host=$2; shift 2
  cct_host_address "$state" "$host" >/dev/null
  local pid; pid=$(cct_host_init_pid "$state" "$host") || die "host $host has no running init process"
  cct_close_fds
  exec nsenter -t "$pid" -a "$@"
}

cct_status() {
  local state=$1 n a r pid ok=0 bad=0 s
  [ -f "$state/hosts.tsv" ] || { echo "no cluster in $state"; return 1; }
  printf '%-10s %-14s %-10s %-9s %-8s %s\n' HOST ADDRESS ROLES PROFILE INIT SSH
  while read -r n a r; do
    pid=$(cct_host_init_pid "$state" "$n") || pid=dead
    if cct_port22_open "$a"; then s=up; else s=down; fi
    printf '%-10s %-14s %-10s %-9s %-8s %s\n' "$n" "$a" "$r" "$(cct_host_profile "$state" "$n")" "$pid" "$s"
    if [ "$pid" != dead ] && [ "$s" = up ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  done < <(cct_hosts "$state")
  echo "state: $state   inventory: $state/inventory.json   hosts up: $ok   broken: $bad"
  [ "$bad" -eq 0 ]
}

# shellcheck source=lib/reach.bash
. "$here/lib/reach.bash"
