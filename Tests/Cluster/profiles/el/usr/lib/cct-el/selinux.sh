# Simulated SELinux for the el9/el7 profiles (the kernel here has none). POSIX sh, sourced by getenforce,
# setenforce, getsebool, setsebool, semanage, selinux-apply and the memcached wrapper.
#   /etc/selinux/config            SELINUX= mode at boot (enforcing as shipped)
#   /var/lib/cct-selinux/booleans  persistent boolean values ("NAME on|off"), written by setsebool -P
#   /var/lib/cct-selinux/ports     local port labels ("TYPE PROTO PORT"), written by semanage port -a/-m/-d
#   /run/cct-selinux/{mode,booleans}  the running state (a reboot starts again from the files above)
# What it enforces, while the mode is enforcing:
#   - httpd_t may not connect to a memcache_port_t port unless httpd_can_network_memcache (or
#     httpd_can_network_connect) is on: an nft rule in its own table inet cct_selinux (firewalld reloads and
#     iptables never touch it) rejects TCP from uid 48 (apache: httpd's and php-fpm's workers) to those ports;
#   - memcached_t may not bind a TCP port not labeled memcache_port_t (the /usr/bin/memcached wrapper).
CCT_SE_STATE=/var/lib/cct-selinux
CCT_SE_RUN=/run/cct-selinux
CCT_SE_DEFAULTS=/usr/share/cct-el/selinux
CCT_SE_APACHE_UID=48

cct_se_config_mode() {
  m=$(sed -n 's/^[ \t]*SELINUX[ \t]*=[ \t]*//p' /etc/selinux/config 2>/dev/null | tail -n 1 | tr -d ' "\t')
  case $m in enforcing|permissive|disabled) echo "$m" ;; *) echo enforcing ;; esac
}
cct_se_mode() {
  if [ -s "$CCT_SE_RUN/mode" ]; then cat "$CCT_SE_RUN/mode"; else cct_se_config_mode; fi
}

# Booleans: policy defaults, then the persistent store over them (the running values at boot).
cct_se_persistent_booleans() {
  set -- "$CCT_SE_DEFAULTS/booleans"
  [ -f "$CCT_SE_STATE/booleans" ] && set -- "$@" "$CCT_SE_STATE/booleans"
  awk 'NF == 2 { v[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; o[++n] = $1 } } END { for (i = 1; i <= n; i++) print o[i], v[o[i]] }' "$@"
}
cct_se_booleans() {
  if [ -s "$CCT_SE_RUN/booleans" ]; then cat "$CCT_SE_RUN/booleans"; else cct_se_persistent_booleans; fi
}
cct_se_bool() { cct_se_booleans | awk -v n="$1" '$1 == n { print $2; f = 1 } END { exit !f }'; }

cct_se_set_line() {   # FILE NAME VALUE: replace or append "NAME VALUE"
  mkdir -p "$(dirname "$1")"
  { [ -f "$1" ] && awk -v n="$2" '$1 != n' "$1"; echo "$2 $3"; } >"$1.new" && mv "$1.new" "$1"
}
cct_se_set_bool() {   # NAME on|off PERSIST(0|1)
  [ -s "$CCT_SE_RUN/booleans" ] || { mkdir -p "$CCT_SE_RUN"; cct_se_persistent_booleans >"$CCT_SE_RUN/booleans"; }
  awk -v n="$1" -v v="$2" '$1 == n { $2 = v } { print }' "$CCT_SE_RUN/booleans" >"$CCT_SE_RUN/booleans.new" \
    && mv "$CCT_SE_RUN/booleans.new" "$CCT_SE_RUN/booleans"
  [ "$3" = 1 ] && cct_se_set_line "$CCT_SE_STATE/booleans" "$1" "$2"
  return 0
}

# Port labels: "TYPE PROTO PORT-or-RANGE" from the policy, then local ones. A local label takes the port
# from whatever type the policy gave it.
cct_se_policy_ports() { awk 'NF == 3 && $1 !~ /^#/' "$CCT_SE_DEFAULTS/ports"; }
cct_se_local_ports() { [ -f "$CCT_SE_STATE/ports" ] && awk 'NF == 3' "$CCT_SE_STATE/ports"; return 0; }
cct_se_port_in() {   # PORT RANGE
  case $2 in *-*) [ "$1" -ge "${2%-*}" ] && [ "$1" -le "${2#*-}" ] ;; *) [ "$1" = "$2" ] ;; esac
}
cct_se_port_type() {   # PROTO PORT: the type labeling it (local first), or nothing
  { cct_se_local_ports; cct_se_policy_ports; } | while read -r t p r; do
    [ "$p" = "$1" ] && cct_se_port_in "$2" "$r" && { echo "$t"; break; }
  done
}
cct_se_ports_of() {   # TYPE PROTO: its single ports and ranges, local ones included, taken ones left out
  { cct_se_local_ports | awk -v t="$1" -v p="$2" '$1 == t && $2 == p { print $3 }'
    cct_se_policy_ports | while read -r t p r; do
      [ "$t" = "$1" ] && [ "$p" = "$2" ] || continue
      case $r in *-*) echo "$r" ;; *) [ "$(cct_se_port_type "$p" "$r")" = "$1" ] && echo "$r" ;; esac
    done; } | awk '!seen[$0]++'
}

# Runtime state from the configuration (at boot), then the enforcement rules.
cct_se_boot() {
  mkdir -p "$CCT_SE_RUN"
  cct_se_config_mode >"$CCT_SE_RUN/mode"
  cct_se_persistent_booleans >"$CCT_SE_RUN/booleans"
}
cct_se_apply() {
  block=0
  if [ "$(cct_se_mode)" = enforcing ] && [ "$(cct_se_bool httpd_can_network_memcache)" != on ] \
     && [ "$(cct_se_bool httpd_can_network_connect)" != on ]; then block=1; fi
  ports=$(cct_se_ports_of memcache_port_t tcp | tr '\n' ',' | sed 's/,$//')
  {
    echo "table inet cct_selinux"
    echo "delete table inet cct_selinux"
    echo "table inet cct_selinux {"
    echo "  chain httpd_t_name_connect {"
    echo "    type filter hook output priority -150; policy accept;"
    if [ "$block" = 1 ] && [ -n "$ports" ]; then
      echo "    meta skuid $CCT_SE_APACHE_UID tcp dport { $ports } counter reject with icmpx type admin-prohibited"
    fi
    echo "  }"
    echo "}"
  } | nft -f -
}
