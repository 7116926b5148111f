# How the machine reaches the hosts, and as whom (issue 12): a bastion host with a leg on a second, private
# bridge; hosts that live only on that bridge; extra host key types; the sudo users on every host (all profiles).
# The shared lib files only call in here (one line each), so this stays one piece.
# shellcheck shell=bash

CCT_PRIVATE_NET=198.18.1        # the private bridge's /24: only the bastion has a leg on it
CCT_PRIVATE_BRIDGE=cctbr1       # in netns cct-switch, next to cctbr0 (goes away with that namespace)
CCT_BASTION=bastion1
CCT_BASTION_OCTET=10            # 198.18.0.10 and 198.18.1.10, below the hosts' range
# deploypw's and nosudo's login password (sudo asks deploypw for it; nosudo has it but no sudo rule). Only
# its SHA-512 crypt hash, made fresh by `up`, lands in STATE: tests check the password appears nowhere there.
CCT_BECOME_PASSWORD='cct-Sudo-pw-7f3e'
CCT_DEPLOYPW_UID=501
CCT_NOSUDO_UID=502

# --- plan ---------------------------------------------------------------------------------------------------

# Rewrites `up`'s plan ("NAME ADDRESS ROLES PROFILE" lines) in place: hosts whose role (memcache, web, other)
# is in PRIVATE (comma-separated) move to CCT_PRIVATE_NET with the same last octet; BASTION=1 adds the
# bastion (a plain host: it only runs sshd). Also records the host key types for cct_reach_host_files.
cct_reach_plan() {
  local state=$1 bastion=$2 private=$3 host_keys=$4 plan=$1/plan n a r p role
  echo "${host_keys//,/ }" >"$state/host-keys"
  [ "$bastion" = 1 ] || [ -n "$private" ] || return 0
  while read -r n a r p; do
    role=$r; [ "$role" = - ] && role=other
    case ",$private," in *",$role,"*) a=$CCT_PRIVATE_NET.${a##*.} ;; esac
    echo "$n $a $r $p"
  done <"$plan" >"$plan.new"
  echo "$CCT_BASTION $CCT_NET.$CCT_BASTION_OCTET bastion plain" >>"$plan.new"
  mv "$plan.new" "$plan"
}

# Option checks for `testcluster up` (before anything is created).
cct_reach_check_options() {
  local private=$1 host_keys=$2 role t
  for role in ${private//,/ }; do
    case $role in memcache|web|other) ;; *) die "--private takes memcache, web, other (comma-separated), got '$role'" ;; esac
    local var=${role:0:1}profile   # mprofile, wprofile, oprofile
    # debian12 hosts are plugged into cctbr0 by systemd-nspawn itself (lib/debian12.bash).
    [ "${!var}" = debian12 ] && die "--private $role: debian12 hosts cannot live on the private bridge yet (el5 or plain only)"
  done
  case ,$host_keys, in *,ed25519,*) ;; *) die "--host-keys must include ed25519 (the cluster's known_hosts holds it), got '$host_keys'" ;; esac
  for t in ${host_keys//,/ }; do
    case $t in ed25519|ecdsa|rsa) ;; *) die "--host-keys takes ed25519, ecdsa, rsa, got '$t'" ;; esac
  done
}

cct_is_private() { [[ $1 == "$CCT_PRIVATE_NET".* ]]; }
cct_has_bastion() { awk -v b="$CCT_BASTION" '$1 == b {f = 1} END {exit !f}' "$1/hosts.tsv" 2>/dev/null; }
cct_bridge_for() { if cct_is_private "$1"; then echo "$CCT_PRIVATE_BRIDGE"; else echo "$CCT_BRIDGE"; fi; }

# Whether ADDRESS answers on port 22: private hosts as the bastion sees them (the machine cannot).
cct_port22_open() {
  if cct_is_private "$1"; then
    nsenter --net="/run/netns/$CCT_PREFIX$CCT_BASTION" nc -z -w 1 "$1" 22 2>/dev/null
  else
    nc -z -w 1 "$1" 22 2>/dev/null
  fi
}

# --- network ------------------------------------------------------------------------------------------------

# Called by cct_make_network once every el5/plain host's netns exists and before the hosts' veths are put on
# a bridge: the private bridge, the bastion's second leg (eth1), and the machine's unreachable route.
cct_reach_network() {
  local state=$1 sw=${CCT_PREFIX}switch b=$CCT_PREFIX$CCT_BASTION
  cct_has_bastion "$state" || return 0
  ip -n "$sw" link add "$CCT_PRIVATE_BRIDGE" type bridge
  ip -n "$sw" link set "$CCT_PRIVATE_BRIDGE" up
  ip link add "q-$CCT_BASTION" netns "$sw" type veth peer name eth1 netns "$b"
  ip -n "$sw" link set "q-$CCT_BASTION" master "$CCT_PRIVATE_BRIDGE" up
  ip -n "$b" addr add "$CCT_PRIVATE_NET.$CCT_BASTION_OCTET/24" dev eth1
  ip -n "$b" link set eth1 up
  # A new netns copies the machine's IPv4 settings (forwarding is on where Docker runs): the bastion must
  # not route between its legs, or "only through the bastion" would also mean "as a router".
  nsenter --net="/run/netns/$b" sysctl -qw net.ipv4.ip_forward=0
  # The machine has no address on the private bridge, but without this it would send that range out of its
  # default route (NOTES.md). Removed by cct_reach_down, also after a crash.
  ip route replace unreachable "$CCT_PRIVATE_NET.0/24"
}

cct_reach_down() {
  while ip route show "$CCT_PRIVATE_NET.0/24" 2>/dev/null | grep -q .; do
    ip route del "$CCT_PRIVATE_NET.0/24" 2>/dev/null || break
  done
  return 0
}

# --- host files ---------------------------------------------------------------------------------------------

# Called at the end of cct_prepare_host_files (el5/plain hosts), with the host's base files in place.
cct_reach_host_files() {
  local state=$1 name=$2 addr=$3 d=$1/hosts/$2 etc=$1/hosts/$2/etc.up t
  cct_add_become_users "$state" "$etc" "$d/home.up"
  # Extra host keys (replacing the whiteouts that hide the machine's): libssh2 1.10 prefers ECDSA when
  # offered both, while the cluster's known_hosts keeps only ed25519 lines.
  for t in $(cat "$state/host-keys" 2>/dev/null); do
    [ "$t" = ed25519 ] && continue
    rm -f "$etc/ssh/ssh_host_${t}_key" "$etc/ssh/ssh_host_${t}_key.pub"
    ssh-keygen -q -t "$t" -N '' -C "root@$name" -f "$etc/ssh/ssh_host_${t}_key"
    echo "HostKey /etc/ssh/ssh_host_${t}_key" >>"$etc/ssh/sshd_config"
  done
  if [ "$(wc -w <"$state/host-keys" 2>/dev/null || echo 1)" -gt 1 ]; then
    # DEBUG1 records "kex: host key algorithm: ..." for every connection: which key a client got.
    echo "LogLevel DEBUG1" >>"$etc/ssh/sshd_config"
  elif [ "$name" = "$CCT_BASTION" ]; then
    echo "LogLevel VERBOSE" >>"$etc/ssh/sshd_config"   # key fingerprints of each login
  fi
  if [ "$name" = "$CCT_BASTION" ]; then
    # Forwarding is sshd's default; said here because the bastion exists for it.
    echo "AllowTcpForwarding yes" >>"$etc/ssh/sshd_config"
  fi
}

# deploypw (sudo with its password) and nosudo (no sudo rule), both with the cluster key; sudo logging to
# /var/log/sudo.log. ETC and HOME are the host's /etc and /home as written from the machine (el5/plain: the
# overlay upper dirs; debian12: through the mounted root). `deploy` (passwordless sudo) is made by the
# caller. Sudo authenticates through the host's /etc/pam.d/sudo (pam_unix against the host's /etc/shadow),
# whatever sshd's UsePAM says.
cct_add_become_users() {
  local state=$1 etc=$2 home=$3 hash u uid
  hash=$(openssl passwd -6 "$CCT_BECOME_PASSWORD")
  for u in deploypw:$CCT_DEPLOYPW_UID nosudo:$CCT_NOSUDO_UID; do
    uid=${u#*:} u=${u%:*}
    echo "$u:x:$uid:$uid:$u:/home/$u:/bin/bash" >>"$etc/passwd"
    echo "$u:x:$uid:" >>"$etc/group"
    echo "$u:$hash:20000:0:99999:7:::" >>"$etc/shadow"
    [ -f "$etc/gshadow" ] && echo "$u:!::" >>"$etc/gshadow"
    # ~/.ssh/authorized_keys for sshd's default (debian12); el5/plain sshd reads /etc/ssh/authorized_keys/%u.
    install -d -m 0700 -o "$uid" -g "$uid" "$home/$u" "$home/$u/.ssh"
    install -m 0600 -o "$uid" -g "$uid" "$state/id_ed25519.pub" "$home/$u/.ssh/authorized_keys"
    [ -d "$etc/ssh/authorized_keys" ] && install -m 0644 "$state/id_ed25519.pub" "$etc/ssh/authorized_keys/$u"
  done
  echo "deploypw ALL=(ALL) ALL" >"$etc/sudoers.d/deploypw"
  # No syslog daemon runs on el5/plain hosts; one file the tests can read on every profile, one line per entry.
  printf 'Defaults logfile=/var/log/sudo.log\nDefaults !syslog\nDefaults loglinelen=0\n' >"$etc/sudoers.d/cct-log"
  chmod 0440 "$etc/sudoers.d/deploypw" "$etc/sudoers.d/cct-log"
}

# --- client side --------------------------------------------------------------------------------------------

# Extra inventory members for a host at ADDRESS: private hosts are reached through the bastion.
cct_reach_inventory_ssh() {
  cct_is_private "$1" && printf ', "ssh": { "jumpHost": "%s" }' "$CCT_NET.$CCT_BASTION_OCTET"
  return 0
}

# Extra ssh_config lines for a host at ADDRESS.
cct_reach_ssh_config() {
  cct_is_private "$1" && printf '  ProxyJump %s\n' "$CCT_BASTION"
  return 0
}

# OpenSSH options for reaching ADDRESS from the machine: for a private host, through the bastion with the
# cluster's key and known_hosts (a ProxyCommand, because ProxyJump would not pass -i/-o on to the jump).
cct_reach_ssh_options() {
  local state=$1 addr=$2 opts
  cct_is_private "$addr" || return 0
  opts=$(cct_ssh_options "$state" | tr '\n' ' ')
  printf '%s\n' -o "ProxyCommand=ssh $opts -W %h:%p root@$CCT_NET.$CCT_BASTION_OCTET"
}
