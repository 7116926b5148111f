# `testcluster down`: remove every process, namespace, veth, bridge, mount and the state dir.
# Works from the records in STATE when they exist and sweeps by the cct prefix in any case, so it also
# cleans up after a crash (init processes killed, STATE half written or gone).
# shellcheck shell=bash
# shellcheck source=lib/debian12.bash
. "$here/lib/debian12.bash"

cct_cct_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$CCT_PREFIX" || true; }
cct_cct_links() {
  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' \
    | grep -E "^(${CCT_PREFIX}|${CCT_BRIDGE}\$)" || true
}

# debian12 hosts' systemd-nspawn processes (--machine=cct-NAME), also when STATE is gone, and their
# children (the containers' systemd, pid 1 of each container's PID namespace).
cct_nspawn_pids() { pgrep -f -- "^systemd-nspawn .*--machine=$CCT_PREFIX" || true; }

cct_kill_hosts() {
  local state=$1 f pid ns pids
  # Recorded init processes first: killing a PID namespace's init kills everything in it.
  for f in "$state"/hosts/*/init.pid "$state"/hosts/*/launcher.pid "$state/mirror.pid"; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in $(cct_nspawn_pids); do
    # shellcheck disable=SC2046
    kill -KILL $(cat "/proc/$pid/task/$pid/children" 2>/dev/null) "$pid" 2>/dev/null || true
  done
  # Then anything else living in one of our network namespaces (e.g. `ip netns exec` leftovers).
  local tries
  for tries in $(seq 1 100); do
    pids=""
    for ns in $(cct_cct_netns); do pids+=" $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"; done
    pids+=" $(cct_nspawn_pids | tr '\n' ' ')"
    [ -z "${pids// /}" ] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.05
  done
  note "processes still alive in cct namespaces after 5 s:$pids"
}

cct_unmount_state() {
  local state=$1 m
  # el5 hosts' mounts live in their private mount namespaces and vanish with them; debian12 hosts' overlay
  # roots (source cct-NAME, under STATE) are in the machine's namespace, where nspawn boots them.
  for m in $(findmnt -rn -o TARGET | grep -E "^$state(/|\$)" | sort -r); do umount -l "$m" 2>/dev/null || true; done
  for m in $(findmnt -rn -o SOURCE,TARGET | awk -v p="$CCT_PREFIX" 'index($1, p) == 1 {print $2}' | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

cct_down() {
  local state=$1 ns l
  cct_kill_hosts "$state"
  for ns in $(cct_cct_netns); do ip netns del "$ns" 2>/dev/null || true; done
  # A veth can outlive its netns for a moment after the kill: retry until the links are gone.
  local tries
  for tries in $(seq 1 50); do
    for l in $(cct_cct_links); do ip link del "$l" 2>/dev/null || true; done
    [ -z "$(cct_cct_links)" ] && break
    sleep 0.1
  done
  [ -z "$(cct_cct_links)" ] || note "links left behind: $(cct_cct_links | tr '\n' ' ')"
  cct_unmount_state "$state"
  cct_reach_down
  # What a killed systemd-nspawn could not remove itself: its cgroups and its propagation directory.
  cct_cgroup_remove ""
  rm -rf /run/systemd/nspawn/propagate/"$CCT_PREFIX"*
  if [ -e "$state" ]; then
    [ -e "$state/$CCT_MARKER" ] || die "$state exists but is not a testcluster state dir ($CCT_MARKER missing); not removing it"
    rm -rf --one-file-system "$state"
  fi
  [ -z "$(cct_cct_netns)" ] || die "network namespaces left behind: $(cct_cct_netns | tr '\n' ' ')"
  [ -z "$(cct_cct_links)" ] || die "links left behind: $(cct_cct_links | tr '\n' ' ')"
}
