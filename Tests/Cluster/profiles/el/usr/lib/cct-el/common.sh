# Shared by the el9/el7 profiles' shims (dnf, yum, rpm, service, the SELinux tools). POSIX sh, sourced.
# Packages: EL names and versions from a catalog; installing one really installs its Debian packages with
# Debian's apt and dpkg (hidden from PATH, kept in $CCT_DEB), then lays out the EL files (packages/NAME/root)
# and runs its post script. The rpm "database" is a text file, one "NAME VERSION-RELEASE ARCH" line each.
CCT_DB=/var/lib/rpm/cct-installed
CCT_FILES=/var/lib/rpm/cct-files
CCT_CATALOG=/usr/share/cct-el/catalog
CCT_PKGS=/usr/share/cct-el/packages
CCT_LOGDIR=/var/log/clusterctl-test
CCT_DEB=/usr/libexec/cct-el/deb
CCT_NOOP=/usr/libexec/cct-el/noop

# Every shim logs its invocation and exit status to $CCT_LOGDIR/<tool>.log, so tests can prove what ran:
#   2026-11-24T22:00:00Z uid=0 dnf -y install memcached => 0
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

# Catalog: "NAME VERSION-RELEASE ARCH REPO REQUIRES PROVIDES" (REQUIRES, PROVIDES: comma lists or -).
# REQUIRES holds what dnf/yum pull in by default, weak dependencies (Recommends) included.
cct_catalog_line() { awk -v n="$1" '$1 == n { print; exit }' "$CCT_CATALOG"; }
cct_installed_line() { [ -f "$CCT_DB" ] && awk -v n="$1" '$1 == n { print; exit }' "$CCT_DB"; }
cct_is_installed() { [ -n "$(cct_installed_line "$1")" ]; }
cct_nevra() { set -- $1; echo "$1-$2.$3"; }      # from a db or catalog line
cct_field() { echo "$1" | awk -v i="$2" '{ print $i }'; }

# The installed package that is NAME or provides it (rpm -q matches names only; dnf and rpm
# --whatprovides also look at provides).
cct_installed_provider() {
  line=$(cct_installed_line "$1")
  if [ -z "$line" ]; then
    for p in $(awk -v n="$1" '$1 !~ /^#/ && $6 != "-" { k = split($6, a, ","); for (i = 1; i <= k; i++) if (a[i] == n) print $1 }' "$CCT_CATALOG"); do
      line=$(cct_installed_line "$p"); [ -n "$line" ] && break
    done
  fi
  echo "$line"
}

# Repositories: [section]s of /etc/yum.repos.d/*.repo, enabled unless enabled=0. dnf and yum read them once at start
# (CCT_REPOS), so a repo that epel-release adds in the same command is not searched. (The shims run with
# set -f, so that package names never glob: file globs switch it off in a subshell.)
cct_repo_text() { (set +f; cat /etc/yum.repos.d/*.repo 2>/dev/null); }
cct_repo_file() { (set +f; grep -l "^\[$1\]" /etc/yum.repos.d/*.repo 2>/dev/null | head -n 1); }
cct_defined_repos() { cct_repo_text | sed -n 's/^\[\(.*\)\].*/\1/p' | tr '\n' ' '; }
cct_enabled_repos() {
  cct_repo_text | awk '
    /^\[/ { if (s != "" && e) print s; s = substr($0, 2, index($0, "]") - 2); e = 1; next }
    /^[ \t]*enabled[ \t]*=[ \t]*(1|true|True)[ \t]*$/ { e = 1 }
    /^[ \t]*enabled[ \t]*=[ \t]*(0|false|False)[ \t]*$/ { e = 0 }
    END { if (s != "" && e) print s }' | tr '\n' ' '
}
cct_repo_enabled() { case " $CCT_REPOS " in *" $1 "*) return 0 ;; esac; return 1; }

# The catalog line that would satisfy NAME from an enabled repository: the package of that name first,
# else one that provides it.
cct_available() {
  awk -v n="$1" '$1 !~ /^#/ && NF >= 6 { if ($1 == n) print "0 " $0; else { k = split($6, a, ","); for (i = 1; i <= k; i++) if (a[i] == n) print "1 " $0 } }' \
    "$CCT_CATALOG" | sort -s -k1,1 | while read -r _ line; do
      cct_repo_enabled "$(cct_field "$line" 4)" && { echo "$line"; break; }
    done
}

# Resolves an install of NAMES: sets CCT_TODO (catalog names asked for), CCT_DEPS (pulled in), CCT_ALREADY
# (installed lines of those already there), CCT_MISSING (names nothing available matches) and CCT_BROKEN
# ("REQ:PKG" for a requirement of PKG that nothing installed or available provides).
cct_resolve() {
  CCT_TODO="" CCT_DEPS="" CCT_ALREADY="" CCT_MISSING="" CCT_BROKEN=""
  for p in "$@"; do
    n=${p%.x86_64}; n=${n%.noarch}
    inst=$(cct_installed_provider "$n")
    if [ -n "$inst" ]; then CCT_ALREADY="$CCT_ALREADY $(cct_field "$inst" 1)"; continue; fi
    line=$(cct_available "$n")
    if [ -z "$line" ]; then CCT_MISSING="$CCT_MISSING $p"; continue; fi
    name=$(cct_field "$line" 1)
    case " $CCT_TODO " in *" $name "*) ;; *) CCT_TODO="$CCT_TODO $name" ;; esac
  done
  queue=$CCT_TODO
  while [ -n "$(echo $queue)" ]; do
    set -- $queue; cur=$1; shift; queue=$*
    for r in $(cct_field "$(cct_catalog_line "$cur")" 5 | tr ',' ' '); do
      [ "$r" = - ] && continue
      [ -n "$(cct_installed_provider "$r")" ] && continue
      line=$(cct_available "$r")
      if [ -z "$line" ]; then CCT_BROKEN="$CCT_BROKEN $r:$cur"; continue; fi
      name=$(cct_field "$line" 1)
      case " $CCT_TODO $CCT_DEPS " in *" $name "*) continue ;; esac
      CCT_DEPS="$CCT_DEPS $name"; queue="$queue $name"
    done
  done
}

# Debian's apt-get and dpkg, with no Debian service started, enabled or configured by the maintainer
# scripts (DPkg::Path puts no-op deb-systemd-helper, invoke-rc.d, ucf, phpenmod... first): on EL, packages
# start nothing and EL's own files configure the daemons. Output goes to /var/log/cct-el/apt.log.
cct_apt() {
  path=$CCT_NOOP:$CCT_DEB:/usr/sbin:/usr/bin:/sbin:/bin
  mkdir -p /var/log/cct-el
  PATH=$path DEBIAN_FRONTEND=noninteractive "$CCT_DEB/apt-get" -q -o "DPkg::Path=$path" -o "Dir::Bin::dpkg=$CCT_DEB/dpkg" \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-unsafe-io \
    -o DPkg::Lock::Timeout=120 "$@" >>/var/log/cct-el/apt.log 2>&1
}
cct_deb_install() {   # DEBS...: the Debian packages under a transaction, one apt run
  [ $# -gt 0 ] || return 0
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' 2>/dev/null | head -n 1)" ]; then
    cct_apt update || return 1
  fi
  cct_apt -y --no-install-recommends install "$@"
}
cct_debs_of() { cat "$CCT_PKGS/$1/debs" 2>/dev/null; }

# Lays out one package after its Debian packages are in: its pre script (e.g. moving a Debian binary out of
# the way of an EL wrapper), its files (over whatever Debian put there, links included: --remove-destination
# never writes through a symlink), its post script, its database line.
cct_install_pkg() {
  name=$1 dir=$CCT_PKGS/$1
  mkdir -p "$CCT_FILES"
  : >"$CCT_FILES/$name"
  [ -f "$dir/pre" ] && sh "$dir/pre" >>/var/log/cct-el/scriptlets.log 2>&1
  if [ -d "$dir/root" ]; then
    (cd "$dir/root" && find . ! -type d | sed 's|^\.||') >"$CCT_FILES/$name"
    cp -a --remove-destination "$dir/root/." /
  fi
  [ -f "$dir/post" ] && sh "$dir/post" >>/var/log/cct-el/scriptlets.log 2>&1
  set -- $(cct_catalog_line "$name")
  echo "$1 $2 $3" >>"$CCT_DB"
}

cct_remove_pkg() {   # the EL files go; the Debian packages underneath stay
  name=$1 dir=$CCT_PKGS/$1
  [ -f "$dir/preun" ] && sh "$dir/preun" >>/var/log/cct-el/scriptlets.log 2>&1
  if [ -f "$CCT_FILES/$name" ]; then
    while IFS= read -r f; do rm -f "$f"; done <"$CCT_FILES/$name"
    rm -f "$CCT_FILES/$name"
  fi
  awk -v n="$name" '$1 != n' "$CCT_DB" >"$CCT_DB.new" && mv "$CCT_DB.new" "$CCT_DB"
  systemctl daemon-reload 2>/dev/null || true
}

# A whole transaction: every Debian package first (one apt run), then each EL package, dependencies first.
cct_transaction() {
  debs=""
  for n in "$@"; do debs="$debs $(cct_debs_of "$n")"; done
  # shellcheck disable=SC2086
  cct_deb_install $debs || { echo "Error: Transaction failed (the Debian packages underneath: see /var/log/cct-el/apt.log)" >&2; return 1; }
  for n in "$@"; do cct_install_pkg "$n"; done
}
