# `testcluster up`: tear down whatever exists, then create the hosts and wait until every sshd answers.
# shellcheck shell=bash
# shellcheck source=lib/down.bash
. "$here/lib/down.bash"
# shellcheck source=lib/host-files.bash
. "$here/lib/host-files.bash"
# shellcheck source=lib/profile.bash
. "$here/lib/profile.bash"
# shellcheck source=lib/debian12-cache.bash
. "$here/lib/debian12-cache.bash"
# shellcheck source=lib/debian12.bash
. "$here/lib/debian12.bash"
# shellcheck source=lib/el.bash
. "$here/lib/el.bash"

cct_plan_hosts() {   # prints "NAME ADDRESS ROLES PROFILE" lines
  local m=$1 w=$2 o=$3 mp=$4 wp=$5 op=$6 i n=$CCT_FIRST_HOST
  for ((i = 1; i <= m; i++)); do echo "mc$i $CCT_NET.$n memcache $mp"; n=$((n + 1)); done
  for ((i = 1; i <= w; i++)); do echo "web$i $CCT_NET.$n web $wp"; n=$((n + 1)); done
  for ((i = 1; i <= o; i++)); do echo "other$i $CCT_NET.$n - $op"; n=$((n + 1)); done
}

# The bridge lives in its own namespace (cct-switch), not in the machine's: with br_netfilter loaded,
# bridged frames go through the iptables FORWARD chain of the bridge's namespace, and the machine's
# FORWARD chain (Docker sets it to DROP) must neither see nor filter host-to-host traffic. The machine
# reaches the hosts through one veth, cct-uplink (198.18.0.1), plugged into that bridge.
cct_make_network() {
  local state=$1 n a r sw=${CCT_PREFIX}switch root_batch=$state/ip-root.batch sw_batch=$state/ip-switch.batch
  ip netns add "$sw"
  ip -n "$sw" link add "$CCT_BRIDGE" type bridge
  ip -n "$sw" link set "$CCT_BRIDGE" up
  ip -n "$sw" link set lo up
  ip link add "${CCT_PREFIX}uplink" type veth peer name uplink netns "$sw"
  ip addr add "$CCT_NET.1/24" dev "${CCT_PREFIX}uplink"
  ip link set "${CCT_PREFIX}uplink" up
  : >"$root_batch"
  echo "link set uplink master $CCT_BRIDGE up" >"$sw_batch"
  while read -r n a r; do
    cct_nspawn_host "$state" "$n" && continue   # nspawn makes its own netns and veth
    ip netns add "$CCT_PREFIX$n"
    echo "link add p-$n netns $sw type veth peer name eth0 netns $CCT_PREFIX$n" >>"$root_batch"
    echo "link set p-$n master $(cct_bridge_for "$a") up" >>"$sw_batch"
  done <"$state/hosts.tsv"
  cct_reach_network "$state"
  ip -batch "$root_batch"
  ip -n "$sw" -batch "$sw_batch"
}

cct_launch_hosts() {
  local state=$1 n a r d profile
  while read -r n a r; do
    d=$state/hosts/$n
    profile=$(cct_host_profile "$state" "$n")
    if cct_nspawn_profile "$profile"; then cct_debian12_start "$state" "$n"; continue; fi
    # setsid: hosts must not share the caller's session or stdio (a test's pipes would never close);
    # cct_close_fds: nor any other descriptor (the machine lock, a caller's pipes or sockets).
    (
      cct_close_fds
      exec setsid ip netns exec "$CCT_PREFIX$n" \
        unshare --mount --uts --pid --fork --mount-proc --kill-child --propagation private \
        bash "$here/lib/host-init" "$state" "$n" "$a" "$profile" </dev/null >"$d/init.log" 2>&1
    ) &
    echo $! >"$d/launcher.pid"
  done <"$state/hosts.tsv"
}

cct_wait_ready() {
  local state=$1 n a r d pending l kids deadline p
  local -A profile=()
  while read -r n p; do profile[$n]=$p; done < <(awk '{print $1, $2}' "$state/profiles.tsv")
  # A debian12 host boots a whole systemd (about 1 s alone, a few when several share 2 cores).
  deadline=$((SECONDS + 30 + $(wc -l <"$state/hosts.tsv") / 2 + 2 * $(awk '$2 ~ /^(debian12|el9|el7)$/' "$state/profiles.tsv" | wc -l)))
  while :; do
    pending=0
    while read -r n a r; do
      d=$state/hosts/$n
      [ -e "$d/ready" ] && continue
      l=$(cat "$d/launcher.pid")
      kill -0 "$l" 2>/dev/null || { sed 's/^/  /' "$d/init.log" >&2; die "host $n: init exited during start (log above)"; }
      if cct_nspawn_profile "${profile[$n]:-}"; then
        # nspawn's first child during start-up is a helper that exits; once sshd answers, it is systemd.
        if nc -z -w 1 "$a" 22 2>/dev/null && cct_debian12_ready "$state" "$n"; then touch "$d/ready"; else pending=$((pending + 1)); fi
        continue
      fi
      if [ ! -s "$d/init.pid" ]; then
        kids=$(cat "/proc/$l/task/$l/children" 2>/dev/null || true)
        [ -n "${kids// /}" ] && echo "${kids%% *}" >"$d/init.pid"
      fi
      if [ -s "$d/init.pid" ] && cct_port22_open "$a"; then touch "$d/ready"; else pending=$((pending + 1)); fi
    done <"$state/hosts.tsv"
    [ "$pending" -eq 0 ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || die "$pending host(s) not reachable on port 22 in time (logs: $state/hosts/*/init.log)"
    sleep 0.1
  done
}

cct_write_client_files() {
  local state=$1 n a r k roles sep=""
  : >"$state/known_hosts"
  while read -r n a r; do
    # The only host key each host's sshd offers (the debian12 base's sshd_config.d says so too).
    k=$state/hosts/$n/etc.up/ssh/ssh_host_ed25519_key.pub
    cct_nspawn_host "$state" "$n" && k=$state/hosts/$n/root/etc/ssh/ssh_host_ed25519_key.pub
    echo "$a $(cut -d' ' -f1,2 "$k")" >>"$state/known_hosts"
  done <"$state/hosts.tsv"
  {
    printf '{\n  "ssh": { "user": "root", "port": 22, "identityFile": "%s", "knownHostsFile": "%s" },\n' \
      "$state/id_ed25519" "$state/known_hosts"
    printf '  "memcached": { "port": 11211, "maxConnections": 1024, "cacheSizeMB": 64, "extraOptions": [] },\n'
    printf '  "php": { "sessionHandler": "memcache" },\n  "hosts": {\n'
    while read -r n a r; do
      [ "$r" = bastion ] && continue   # a jump host, not a cluster member
      if [ "$r" = - ]; then roles=""; else roles="\"$r\""; fi
      printf '%s    "%s": { "roles": [%s], "address": "%s", "privateAddress": "%s"%s }' "$sep" "$n" "$roles" "$a" "$a" \
        "$(cct_reach_inventory_ssh "$a")"
      sep=$',\n'
    done <"$state/hosts.tsv"
    printf '\n  }\n}\n'
  } >"$state/inventory.json"
  {
    while read -r n a r; do
      printf 'Host %s\n  HostName %s\n' "$n" "$a"
      cct_reach_ssh_config "$a"
    done <"$state/hosts.tsv"
    printf 'Host *\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n' \
      "$state/id_ed25519" "$state/known_hosts"
  } >"$state/ssh_config"
}

# PROFILE is the default; MP, WP, OP are the memcache, web and other hosts' profiles (el5, plain, debian12,
# el9, el7).
# The kernel's ARP table is one for all network namespaces, capped by gc_thresh3 (1024 by default). Every
# host keeps entries for the machine, the memcache hosts and, on memcache hosts, every web host: 200 hosts
# need ~1,300, and past the cap new neighbours are refused ("neighbor table overflow" in dmesg), which looks
# like connections timing out. Raised (never lowered) machine-wide: a larger table costs nothing until used.
cct_neighbour_room() {
  local key want have
  for key in gc_thresh1:1024 gc_thresh2:8192 gc_thresh3:16384; do
    want=${key#*:} key=net.ipv4.neigh.default.${key%%:*}
    have=$(sysctl -n "$key" 2>/dev/null) || continue
    [ "$have" -ge "$want" ] || sysctl -qw "$key=$want" || note "cannot raise $key to $want (large clusters may see ARP failures)"
  done
}

cct_up() {
  local state=$1 m=$2 w=$3 o=$4 profile=$5 mp=$6 wp=$7 op=$8 n a r p base="" el="" summary
  cct_down "$state"        # `up` twice: always a fresh cluster
  mkdir -p "$state/hosts"
  touch "$state/$CCT_MARKER"
  chmod 755 "$state"
  echo "$profile" >"$state/profile"
  cct_plan_hosts "$m" "$w" "$o" "$mp" "$wp" "$op" >"$state/plan"
  cct_reach_plan "$state" "${bastion:-0}" "${private:-}" "${host_keys:-ed25519}"
  cut -d' ' -f1-3 "$state/plan" >"$state/hosts.tsv"
  cut -d' ' -f1,4 "$state/plan" >"$state/profiles.tsv"
  rm "$state/plan"
  # From here on a failure must not leave half a cluster behind.
  trap 'rc=$?; if [ $rc -ne 0 ]; then note "up failed; tearing down"; cct_down "$state" || true; fi' EXIT
  if grep -qE ' (debian12|el9|el7)$' "$state/profiles.tsv"; then base=$(cct_debian12_cache); fi
  if grep -qE ' (el9|el7)$' "$state/profiles.tsv"; then el=$(cct_el_setup "$state" "$base"); fi
  ssh-keygen -q -t ed25519 -N '' -C "clusterctl-testcluster" -f "$state/id_ed25519"
  if grep -q ' el5$' "$state/profiles.tsv"; then cct_build_el5_layers "$state"; fi
  while read -r n a r; do
    mkdir -p "$state/hosts/$n"
    p=$(cct_host_profile "$state" "$n")
    if [ "$p" = debian12 ]; then
      cct_debian12_prepare_host "$state" "$n" "$a" "$base/base-root"
    elif cct_el_profile "$p"; then
      cct_el_prepare_host "$state" "$n" "$a" "$p" "$base" "$el"
    else
      cct_prepare_host_files "$state" "$n" "$a"
    fi
  done <"$state/hosts.tsv"
  cct_neighbour_room
  cct_make_network "$state"
  if [ -n "$base" ]; then cct_mirror_start "$state" "$base/mirror"; fi
  cct_launch_hosts "$state"
  cct_wait_ready "$state"
  cct_write_client_files "$state"
  trap - EXIT
  summary=$(for p in $(cut -d' ' -f2 "$state/profiles.tsv" | sort -u); do
              printf '%s: %s; ' "$p" "$(awk -v p="$p" '$2 == p {print $1}' "$state/profiles.tsv" | tr '\n' ' ' | sed 's/ $//')"
            done)
  echo "testcluster: $(wc -l <"$state/hosts.tsv") host(s) up (${summary%; }); inventory: $state/inventory.json"
}
