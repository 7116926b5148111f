# The el9/el7 profiles' cached system layer: what every EL7+ host has installed before anyone runs yum or
# dnf on it, and what the Debian base root (lib/debian12-cache.bash) lacks: firewalld (running by default on
# EL7+) and nftables. Installed once per machine with Debian's own apt from the debian12 mirror into an
# overlay upper dir over the base root; the hosts stack it between their profile layer and the base root:
#   lower = STATE/layers/elN (profile files, shims, whiteouts) : CACHE/el/KEY/sys : debian12 base root
# KEY hashes the debian12 cache it was built on, the package list and CCT_EL_RECIPE, so a new base (or list)
# builds a new layer; old ones go as the debian12 caches do (unused for 3 days and not booted from).
# shellcheck shell=bash

CCT_EL_RECIPE=1                  # bump when the build below changes what ends up in the layer
CCT_EL_SYS_PACKAGES="firewalld nftables"

cct_el_cache_dir() {   # $1: the debian12 cache dir
  local key
  key=$(echo "base=$(basename "$1") packages=$CCT_EL_SYS_PACKAGES recipe=$CCT_EL_RECIPE" | sha256sum | cut -c1-16)
  echo "$CCT_CACHE_ROOT/el/$key"
}

# Prints the EL system layer's cache dir (its sys/ is the layer), building it first when missing.
# Caller holds the machine lock; $1 is the debian12 cache dir (base-root/, mirror/).
cct_el_cache() {
  local d12=$1 dir; dir=$(cct_el_cache_dir "$d12")
  if [ -e "$dir/complete" ]; then
    touch "$dir/complete"
    echo "$dir"; return 0
  fi
  local tmp=$dir.build start=$SECONDS mnt
  cct_el_build_cleanup "$tmp"
  mkdir -p "$tmp/sys" "$tmp/work" "$tmp/mnt"
  note "building the el9/el7 system layer ($CCT_EL_SYS_PACKAGES over the debian12 base) in $dir (once per machine)"
  mnt=$tmp/mnt
  if ! mount -t overlay "${CCT_PREFIX}elbuild" -o "lowerdir=$d12/base-root,upperdir=$tmp/sys,workdir=$tmp/work" "$mnt" \
     || ! cct_el_build "$mnt" "$d12/mirror" >"$tmp/build.log" 2>&1; then
    cp "$tmp/build.log" "$dir.failed.log" 2>/dev/null || true
    tail -n 20 "$tmp/build.log" 2>/dev/null | sed 's/^/  /' >&2
    cct_el_build_cleanup "$tmp"
    die "building the el9/el7 system layer failed (log: $dir.failed.log)"
  fi
  umount "$mnt"
  rmdir "$tmp/sys/srv/cct-mirror" 2>/dev/null || true
  rm -rf "$tmp/work" "$tmp/mnt"
  mv "$tmp" "$dir"
  touch "$dir/complete"
  local old
  for old in "$CCT_CACHE_ROOT"/el/*; do
    [ "$old" = "$dir" ] || [ ! -d "$old" ] && continue
    [ -n "$(find "$old" -maxdepth 1 -name complete -mtime -3)" ] && continue
    findmnt -rn -t overlay -o OPTIONS | grep -q "$old/" && continue
    rm -rf --one-file-system "$old"
  done
  note "el9/el7 system layer ready in $((SECONDS - start)) s: $(du -sh "$dir/sys" | cut -f1)"
  echo "$dir"
}

cct_el_build_cleanup() {
  umount "$1/mnt" 2>/dev/null || true
  rm -rf --one-file-system "$1"
}

# Runs inside the overlay (systemd-nspawn --pipe, no systemd running, so no maintainer script starts a
# daemon; firewalld's postinst still enables firewalld.service, as EL's preset does). The mirror is bind-
# mounted read-only and named as the only source for this run; no lists or caches are left behind.
cct_el_build() {
  local root=$1 mirror=$2
  SYSTEMD_NSPAWN_LOCK=0 systemd-nspawn -q --register=no --keep-unit --pipe -D "$root" --private-network \
    --resolv-conf=off --timezone=off --link-journal=no --bind-ro="$mirror:/srv/cct-mirror" \
    -E DEBIAN_FRONTEND=noninteractive -E LC_ALL=C.UTF-8 /bin/sh -ec "
      echo 'deb [trusted=yes] file:/srv/cct-mirror ./' >/tmp/cct-build.list
      set -- -o Dir::Etc::sourcelist=/tmp/cct-build.list -o Dir::Etc::sourceparts=-
      apt-get -q \"\$@\" update
      apt-get -q -y \"\$@\" --no-install-recommends install $CCT_EL_SYS_PACKAGES
      systemctl is-enabled firewalld.service
      find /var/lib/apt/lists -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +
      rm -rf /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/log/apt/* /var/log/dpkg.log
    " </dev/null
}
