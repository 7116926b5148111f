# el9 and el7 hosts: the debian12 profile's machinery (a real systemd booted by systemd-nspawn on an overlay,
# lib/debian12.bash) with two more read-only layers under the host's own disk:
#   STATE/layers/elN    the profile (profiles/el + profiles/elN): EL's os-release and release files, the
#                       yum/dnf, rpm, service and SELinux shims, the package catalog and payloads, and
#                       whiteouts hiding Debian's apt, dpkg and service helpers (kept in /usr/libexec/cct-el/deb
#                       for the shims); rebuilt on every `up` (milliseconds)
#   CACHE/el/KEY/sys    firewalld and nftables installed over the base root (lib/el-cache.bash), built once
#   CACHE/debian12/KEY/base-root
# Everything clusterctl touches looks like Rocky Linux 9.4 or CentOS 7; the daemons underneath are Debian's.
# shellcheck shell=bash
# shellcheck source=lib/el-cache.bash
. "$here/lib/el-cache.bash"

# STATE/layers/PROFILE from profiles/el and profiles/PROFILE (the latter wins), over SYS and BASE.
cct_el_layers() {
  local state=$1 profile=$2 sys=$3 base=$4 L=$1/layers/$2 p f i rel
  rm -rf "$L"
  mkdir -p "$L"
  cp -a "$here/profiles/el/." "$L/"
  cp -a "$here/profiles/$profile/." "$L/"
  rm -f "$L/hidden"
  mkdir -p "$L/usr/libexec/cct-el/deb" "$L/var/log/clusterctl-test" "$L/var/log/cct-el" "$L/var/lib/cct-selinux" \
    "$L/var/lib/rpm/cct-files"
  chmod 1777 "$L/var/log/clusterctl-test"
  # Whiteouts (character device 0/0) for the hidden paths; executables are kept for the package shims.
  while read -r p; do
    case $p in ''|'#'*) continue ;; esac
    for f in "$sys"$p "$base"$p; do   # glob against the lower layers
      [ -e "$f" ] || [ -L "$f" ] || continue
      case $f in "$sys"/*) rel=${f#"$sys"} ;; *) rel=${f#"$base"} ;; esac
      [ -e "$L$rel" ] || [ -L "$L$rel" ] && continue
      case $rel in /usr/bin/*|/usr/sbin/*) cp -L "$f" "$L/usr/libexec/cct-el/deb/${rel##*/}" ;; esac
      mkdir -p "$(dirname "$L$rel")"
      mknod "$L$rel" c 0 0
    done
  done <"$here/profiles/el/hidden"
  chown -R root:root "$L"
  for i in usr/bin usr/sbin usr/libexec/cct-el usr/libexec/cct-el/noop usr/libexec/cct-el/deb; do
    find "$L/$i" -maxdepth 1 -type f -exec chmod 0755 {} +
  done
}

# Prepares an el9/el7 host: the debian12 host's identity and network files (lib/debian12.bash) on an
# overlay of the profile layer, the EL system layer and the base root.
cct_el_prepare_host() {
  local state=$1 name=$2 addr=$3 profile=$4 d12=$5 el=$6
  cct_debian12_prepare_host "$state" "$name" "$addr" "$state/layers/$profile:$el/sys:$d12/base-root"
}

# `up` and `cache`: the EL system layer over the debian12 cache, and the profile layers the cluster needs.
cct_el_setup() {   # STATE D12DIR: prints the EL cache dir
  local state=$1 d12=$2 el p
  el=$(cct_el_cache "$d12")
  for p in el9 el7; do
    if grep -q " $p\$" "$state/profiles.tsv"; then cct_el_layers "$state" "$p" "$el/sys" "$d12/base-root"; fi
  done
  echo "$el"
}
