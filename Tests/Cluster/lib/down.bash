# `testcluster down`: remove every process, namespace, veth, bridge, mount and the state dir.
# Works from the records in STATE when they exist and sweeps by the cct prefix in any case, so it also
# cleans up after a crash (init processes killed, STATE half written or gone).
# shellcheck shell=bash

cct_cct_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$CCT_PREFIX" || true; }
cct_cct_links() {
  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' \
    | grep -E "^(${CCT_PREFIX}|${CCT_BRIDGE}\$)" || true
}

cct_kill_hosts() {
  local state=$1 f pid ns pids
  # Recorded init processes first: killing a PID namespace's init kills everything in it.
  for f in "$state"/hosts/*/init.pid "$state"/hosts/*/launcher.pid; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null || true
  done
  # Then anything else living in one of our network namespaces (e.g. `ip netns exec` leftovers).
  local tries
  for tries in $(seq 1 100); do
    pids=""
    for ns in $(cct_cct_netns); do pids+=" $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"; done
    [ -z "${pids// /}" ] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.05
  done
  note "processes still alive in cct namespaces after 5 s:$pids"
}

cct_unmount_state() {
  local state=$1 m
  # Host mounts live in the hosts' private mount namespaces and vanish with them; this only catches
  # mounts that leaked into the root namespace (none are made there, but never leave one behind).
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
  if [ -e "$state" ]; then
    [ -e "$state/$CCT_MARKER" ] || die "$state exists but is not a testcluster state dir ($CCT_MARKER missing); not removing it"
    rm -rf --one-file-system "$state"
  fi
  [ -z "$(cct_cct_netns)" ] || die "network namespaces left behind: $(cct_cct_netns | tr '\n' ' ')"
  [ -z "$(cct_cct_links)" ] || die "links left behind: $(cct_cct_links | tr '\n' ' ')"
}
