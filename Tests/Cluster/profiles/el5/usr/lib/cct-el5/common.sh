# Shared by the EL5 profile's shims (yum, rpm, chkconfig, service). POSIX sh, sourced.
# The package "database" is a text file: one "NAME VERSION-RELEASE ARCH" line per installed package.
CCT_DB=/var/lib/rpm/cct-installed
CCT_FILES=/var/lib/rpm/cct-files
CCT_CATALOG=/usr/share/cct-el5/catalog
CCT_PKGS=/usr/share/cct-el5/packages
CCT_LOGDIR=/var/log/clusterctl-test

# Every shim logs its invocation and exit status to $CCT_LOGDIR/<tool>.log, so tests can prove what ran:
#   2026-11-24T22:00:00Z uid=0 yum -y install memcached => 0
cct_quote_args() {
  for a in "$@"; do
    case $a in
      '' | *[!A-Za-z0-9_./:=@%+,-]*) printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")" ;;
      *) printf ' %s' "$a" ;;
    esac
  done
}
cct_log_start() {
  CCT_TOOL=$1; shift
  CCT_INVOCATION="$CCT_TOOL$(cct_quote_args "$@")"
  trap 'cct_log_end $?' EXIT
}
cct_log_end() {
  printf '%s uid=%s %s => %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(id -u)" "$CCT_INVOCATION" "$1" \
    >>"$CCT_LOGDIR/$CCT_TOOL.log" 2>/dev/null || true
}

cct_need_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  echo "$1" >&2
  exit "${2:-1}"
}

# Package catalog: "NAME VERSION-RELEASE ARCH REPO REQUIRES(comma list or -)".
cct_catalog_line() { awk -v n="$1" '$1 == n { print; exit }' "$CCT_CATALOG"; }
cct_installed_line() { [ -f "$CCT_DB" ] && awk -v n="$1" '$1 == n { print; exit }' "$CCT_DB"; }
cct_is_installed() { [ -n "$(cct_installed_line "$1")" ]; }
cct_nvr() { set -- $1; echo "$1-$2"; }          # from a db/catalog line
cct_nvra() { set -- $1; echo "$1-$2.$3"; }

# EPEL packages are available only when /etc/yum.repos.d/epel.repo enables [epel].
cct_repo_enabled() {
  case $1 in
    base|updates) return 0 ;;
    epel) [ -f /etc/yum.repos.d/epel.repo ] && awk '
            /^\[/ { sect = $0 }
            sect == "[epel]" && /^enabled[ \t]*=[ \t]*1/ { found = 1 }
            END { exit !found }' /etc/yum.repos.d/epel.repo ;;
    *) return 1 ;;
  esac
}

# Install one package: copy its files, record it, run its post-install script.
cct_install_pkg() {
  name=$1
  line=$(cct_catalog_line "$name")
  set -- $line
  dir=$CCT_PKGS/$name
  mkdir -p "$CCT_FILES"
  : >"$CCT_FILES/$name"
  if [ -d "$dir/root" ]; then
    (cd "$dir/root" && find . ! -type d | sed 's|^\.||') >"$CCT_FILES/$name"
    cp -a "$dir/root/." /
  fi
  [ -f "$dir/post" ] && sh "$dir/post"
  echo "$1 $2 $3" >>"$CCT_DB"
}

cct_remove_pkg() {
  name=$1
  dir=$CCT_PKGS/$name
  [ -f "$dir/preun" ] && sh "$dir/preun"
  if [ -f "$CCT_FILES/$name" ]; then
    while IFS= read -r f; do rm -f "$f"; done <"$CCT_FILES/$name"
    rm -f "$CCT_FILES/$name"
  fi
  awk -v n="$name" '$1 != n' "$CCT_DB" >"$CCT_DB.new" && mv "$CCT_DB.new" "$CCT_DB"
}

# Runlevel links for chkconfig: the script's "# chkconfig: LEVELS START STOP" header.
cct_chkconfig_header() { sed -n 's/^#[ \t]*chkconfig:[ \t]*//p' "/etc/rc.d/init.d/$1" | head -n 1; }
