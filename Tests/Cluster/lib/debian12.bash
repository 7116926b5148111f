# debian12 hosts: a real Debian 12 booted by systemd-nspawn (its own systemd as PID 1), on an overlayfs
# over the cached read-only base root (lib/debian12-cache.bash), networked on the cct bridge, installing
# real .debs with its own apt from the mirror this file serves on the bridge (CCT_MIRROR_ADDR).
# shellcheck shell=bash

# Per host, under STATE/hosts/NAME: up/ + work/ (the overlay's upper and work dirs: the host's "disk",
# kept across reboots), root/ (the overlay mount, source cct-NAME), init.log (the console, every boot),
# launcher.pid (systemd-nspawn), init.pid (the container's systemd, in the machine's pid namespace).

# Each container gets its own cgroup, cct-NAME, in every hierarchy nspawn uses. With --keep-unit nspawn
# creates payload/ and supervisor/ inside the cgroup it was started from; started from one shared cgroup,
# every container's systemd would manage the same payload/system.slice/*.service cgroups and stopping
# memcached on one host would kill it on all of them.
cct_cgroup_roots() {   # the cgroup2 mount and the named systemd v1 hierarchy, where present
  findmnt -rn -t cgroup2,cgroup -o TARGET,FSTYPE,OPTIONS | awk '$2 == "cgroup2" || $3 ~ /(^|,)name=systemd(,|$)/ {print $1}'
}

cct_cgroup_enter() {   # moves the calling (sub)shell into cct-NAME
  local root
  for root in $(cct_cgroup_roots); do
    mkdir -p "$root/$1"
    echo "$BASHPID" >"$root/$1/cgroup.procs"
  done
}

cct_cgroup_remove() {   # removes cct-NAME (all, when NAME is empty) once its processes are gone
  local root d tries
  for root in $(cct_cgroup_roots); do
    for d in "$root/${1:-$CCT_PREFIX}"*; do
      [ -d "$d" ] || continue
      for tries in $(seq 1 50); do   # a killed process leaves its cgroup a moment later
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$d" ] || break
        sleep 0.1
      done
      [ -d "$d" ] && note "cgroup left behind: $d"
    done
  done
  return 0
}

cct_debian12_prepare_host() {
  local state=$1 name=$2 addr=$3 base=$4 d=$1/hosts/$2 r=$1/hosts/$2/root uid n a rest
  mkdir -p "$d/up" "$d/work" "$r"
  mount -t overlay "$CCT_PREFIX$name" -o "lowerdir=$base,upperdir=$d/up,workdir=$d/work" "$r"
  # Written through the mount, so overlayfs copies up parents with their modes (/root stays 0700).
  echo "$name" >"$r/etc/hostname"
  {
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    while read -r n a rest; do printf '%s\t%s\n' "$a" "$n"; done <"$state/hosts.tsv"
  } >"$r/etc/hosts"
  # The base's machine-id is empty; a real installed host has its own, kept across reboots.
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$r/etc/machine-id"
  echo >>"$r/etc/machine-id"
  # nspawn names the container's end of the veth host0. Static address, no gateway, no DNS: nothing but
  # the bridge (the mirror is on it).
  cat >"$r/etc/systemd/network/10-host0.network" <<EOF
# testcluster host $name: written by Tests/Cluster/lib/debian12.bash
[Match]
Name=host0

[Network]
Address=$addr/24
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
  ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$r/etc/ssh/ssh_host_ed25519_key"
  install -d -m 0700 "$r/root/.ssh"
  install -m 0600 "$state/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
  uid=$(awk -F: '$1 == "deploy" {print $3 ":" $4}' "$r/etc/passwd")
  install -d -m 0700 -o "${uid%:*}" -g "${uid#*:}" "$r/home/deploy/.ssh"
  install -m 0600 -o "${uid%:*}" -g "${uid#*:}" "$state/id_ed25519.pub" "$r/home/deploy/.ssh/authorized_keys"
  cct_add_become_users "$state" "$r/etc" "$r/home"   # deploypw, nosudo, sudo's log file (lib/reach.bash)
}

# Boots the host: systemd-nspawn entered into the switch namespace, so that --network-bridge finds cctbr0
# and the veth's outer end (vb-cct-NAME) lives there. nsenter --net, not `ip netns exec`: the latter
# remounts /sys, which hides the cgroup hierarchies nspawn needs. The container gets a fresh network
# namespace per boot: a reboot loses runtime network state (addresses, iptables rules) as a real one does.
cct_debian12_start() {
  local state=$1 name=$2 d=$1/hosts/$2
  rm -f "$d/ready" "$d/init.pid"
  echo "=== boot $(date '+%F %T')" >>"$d/init.log"
  (
    cct_close_fds
    cct_cgroup_enter "$CCT_PREFIX$name"
    # No image lock file in /run/systemd/nspawn/locks: only this host ever boots this root, and a killed
    # nspawn would leave its lock file behind.
    export SYSTEMD_NSPAWN_LOCK=0
    exec setsid nsenter --net="/run/netns/${CCT_PREFIX}switch" \
      systemd-nspawn --quiet --boot --directory="$d/root" --machine="$CCT_PREFIX$name" --hostname="$name" \
        --register=no --keep-unit --network-bridge="$CCT_BRIDGE" --resolv-conf=off --timezone=off \
        --link-journal=no --console=read-only </dev/null >>"$d/init.log" 2>&1
  ) &
  echo $! >"$d/launcher.pid"
}

# Called once the host answers on port 22: its systemd is then nspawn's only child. Gives its network
# namespace the name cct-NAME, like the el5 hosts' (ip netns exec/pids work, down's sweep finds it).
cct_debian12_ready() {
  local state=$1 name=$2 d=$1/hosts/$2 l kids
  l=$(cat "$d/launcher.pid")
  kids=$(cat "/proc/$l/task/$l/children" 2>/dev/null || true)
  [ -n "${kids// /}" ] || return 1
  echo "${kids%% *}" >"$d/init.pid"
  ip netns del "$CCT_PREFIX$name" 2>/dev/null || true
  ip netns attach "$CCT_PREFIX$name" "${kids%% *}"
}

# A real power-off: SIGTERM makes nspawn ask the container's systemd to shut down (services stop, the
# journal is flushed, filesystems unmounted); wait until nspawn has exited.
cct_debian12_poweroff() {
  local state=$1 name=$2 d=$1/hosts/$2 l t
  l=$(cat "$d/launcher.pid" 2>/dev/null || true)
  if [[ $l =~ ^[0-9]+$ ]] && kill -0 "$l" 2>/dev/null; then
    kill -TERM "$l"
    for t in $(seq 1 600); do kill -0 "$l" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$l" 2>/dev/null; then
      note "$name did not power off in 60 s; killing it"
      kill -KILL "$(cat "$d/init.pid" 2>/dev/null)" "$l" 2>/dev/null || true
      while kill -0 "$l" 2>/dev/null; do sleep 0.1; done
    fi
  fi
  ip netns del "$CCT_PREFIX$name" 2>/dev/null || true
  cct_cgroup_remove "$CCT_PREFIX$name"
  rm -f "$d/init.pid" "$d/launcher.pid" "$d/ready"
}

cct_debian12_reboot() {
  local state=$1 name=$2 start=$SECONDS
  cct_nspawn_host "$state" "$name" \
    || die "reboot: $name is an $(cct_host_profile "$state" "$name") host; only debian12, el9 and el7 hosts (real systemd under nspawn) can reboot"
  note "rebooting $name: power off"
  cct_debian12_poweroff "$state" "$name"
  note "rebooting $name: boot (powered off after $((SECONDS - start)) s)"
  cct_debian12_start "$state" "$name"
  cct_wait_ready "$state"
  note "$name is back after $((SECONDS - start)) s"
}

# The apt mirror: a static HTTP server on CCT_MIRROR_ADDR, an address on the bridge inside cct-switch.
# Living in that namespace, it goes away with it in `down`, also after a crash.
cct_mirror_start() {
  local state=$1 mirror=$2 t
  ip -n "${CCT_PREFIX}switch" addr add "$CCT_MIRROR_ADDR/24" dev "$CCT_BRIDGE"
  (
    cct_close_fds
    exec setsid nsenter --net="/run/netns/${CCT_PREFIX}switch" /usr/bin/python3 -m http.server \
      --bind "$CCT_MIRROR_ADDR" --directory "$mirror" "$CCT_MIRROR_PORT" </dev/null >"$state/mirror.log" 2>&1
  ) &
  echo $! >"$state/mirror.pid"
  for t in $(seq 1 100); do
    nc -z -w 1 "$CCT_MIRROR_ADDR" "$CCT_MIRROR_PORT" 2>/dev/null && return 0
    kill -0 "$(cat "$state/mirror.pid")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$state/mirror.log" >&2
  die "the apt mirror did not start on $CCT_MIRROR_ADDR:$CCT_MIRROR_PORT"
}
