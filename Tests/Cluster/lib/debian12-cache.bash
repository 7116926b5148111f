# The debian12 profile's cache: one read-only Debian 12 base root (debootstrap) that every debian12 host
# overlays, and a private apt mirror (flat repository of .debs) that the hosts install from with their own
# apt. Built once per machine, outside git, under CCT_CACHE_ROOT/debian12/KEY; KEY hashes the package lists
# and the recipe version, so changing a list (or bumping the recipe) builds a new cache next to the old one
# (removed once unused for 3 days). Building is the only step that uses the network: debootstrap and apt in the base
# root fetch from the machine's own Debian archive. Hosts never have any network but the cct bridge.
# shellcheck shell=bash

CCT_CACHE_ROOT=${CCT_CACHE_ROOT:-/var/cache/clusterctl-testcluster}
CCT_DEBIAN12_RECIPE=2          # bump when the build steps below change what ends up in the cache
CCT_DEBIAN12_SUITE=bookworm

cct_debian12_lists() {   # the list files, without comments and blank lines
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/profiles/debian12/$1"
}

cct_debian12_cache_dir() {
  local key
  key=$({ cct_debian12_lists base-packages; echo --; cct_debian12_lists mirror-packages
          echo "recipe=$CCT_DEBIAN12_RECIPE suite=$CCT_DEBIAN12_SUITE"; } | sha256sum | cut -c1-16)
  echo "$CCT_CACHE_ROOT/debian12/$key"
}

# The machine's Debian archive (first URIs: line of its deb822 sources), the one apt uses here.
cct_debian12_archive() {
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# Runs a shell script inside ROOT with systemd-nspawn (not chroot: it mounts /proc, /sys and /dev for the
# maintainer scripts and takes them down again). It shares the machine's network: this is the build step.
cct_debian12_in_root() {
  local root=$1 script=$2
  SYSTEMD_NSPAWN_LOCK=0 systemd-nspawn -q --register=no --keep-unit --pipe -D "$root" --resolv-conf=copy-host --timezone=off \
    --link-journal=no -E DEBIAN_FRONTEND=noninteractive -E LC_ALL=C.UTF-8 /bin/sh -ec "$script" </dev/null
}

# Prints the cache dir, building it first when it is missing. Caller holds the machine lock.
cct_debian12_cache() {
  local dir; dir=$(cct_debian12_cache_dir)
  if [ -e "$dir/complete" ]; then
    touch "$dir/complete"      # last use, for the pruning below
    echo "$dir"; return 0
  fi
  command -v debootstrap >/dev/null && command -v dpkg-scanpackages >/dev/null && command -v systemd-nspawn >/dev/null \
    || die "the debian12 profile needs debootstrap, dpkg-dev and systemd-container: run scripts/install-deps as root"
  local tmp=$dir.build start=$SECONDS
  rm -rf --one-file-system "$tmp"      # a build killed half-way
  mkdir -p "$tmp"
  note "building the debian12 base root and mirror in $dir (once per machine; 1 to 3 minutes)"
  if ! cct_debian12_build "$tmp" "$tmp/build.log" "$start"; then
    cp "$tmp/build.log" "$dir.failed.log" 2>/dev/null || true
    tail -n 20 "$tmp/build.log" | sed 's/^/  /' >&2
    rm -rf --one-file-system "$tmp"
    die "building the debian12 cache failed (full log: $dir.failed.log)"
  fi
  mv "$tmp" "$dir"
  touch "$dir/complete"
  # Other caches (other package lists, other recipes) go once unused for 3 days: not at once, since checkouts
  # of other branches may still use theirs (each would rebuild its own, alternately), and never while a
  # running cluster boots from one.
  local old
  for old in "$CCT_CACHE_ROOT"/debian12/*; do
    [ "$old" = "$dir" ] && continue
    [ -n "$(find "$old" -maxdepth 1 -name complete -mtime -3)" ] && continue
    findmnt -rn -t overlay -o OPTIONS | grep -q "lowerdir=$old/" && continue
    rm -rf --one-file-system "$old"
  done
  note "debian12 cache ready in $((SECONDS - start)) s: $(du -sh "$dir/base-root" | cut -f1) base root, $(ls "$dir/mirror" | grep -c '\.deb$') packages in the mirror"
  echo "$dir"
}

cct_debian12_step() { note "  [$(( SECONDS - $1 )) s] $2"; }

cct_debian12_build() {
  local tmp=$1 log=$2 start=$3 root=$1/base-root archive include line
  archive=$(cct_debian12_archive)
  include=$(cct_debian12_lists base-packages | tr '\n' ',' | sed 's/,$//')
  cct_debian12_step "$start" "debootstrap $CCT_DEBIAN12_SUITE (minbase + $include) from $archive"
  debootstrap --variant=minbase --include="$include" "$CCT_DEBIAN12_SUITE" "$root" "$archive" >>"$log" 2>&1 || return 1

  # Build-time apt setup: the machine's own sources and Acquire settings (e.g. Check-Valid-Until for a
  # snapshot archive); all of it is removed again below. No daemon may start in the build container.
  # (Runs under `if !`, where set -e is off: every step that matters ends in `|| return 1`.)
  rm -f "$root/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
  [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list && cp /etc/apt/sources.list "$root/etc/apt/"
  apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' >"$root/etc/apt/apt.conf.d/00cct-build" || true
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d" || return 1

  cct_debian12_step "$start" "apt-get update && apt-get upgrade in the base root"
  cct_debian12_in_root "$root" 'apt-get -q update && apt-get -q -y upgrade' >>"$log" 2>&1 || return 1

  # Every line of mirror-packages is one apt transaction from the base root's state, with apt's defaults
  # (Recommends on). --download-only leaves the base as it is and collects the .debs in apt's archive dir.
  local script="" n=0
  while read -r line; do
    script+="echo '== $line'; apt-get -q -y install --download-only $line"$'\n'
    n=$((n + 1))
  done < <(cct_debian12_lists mirror-packages)
  cct_debian12_step "$start" "downloading $n package set(s) for the mirror (with Recommends)"
  cct_debian12_in_root "$root" "$script" >>"$log" 2>&1 || return 1

  # The base as a fresh install would look before anyone ran apt: users, services, no host identity.
  cct_debian12_step "$start" "configuring the base root"
  cct_debian12_in_root "$root" "$(cat "$here/lib/debian12-base-setup")" >>"$log" 2>&1 || return 1

  cct_debian12_step "$start" "indexing the mirror (dpkg-scanpackages)"
  mkdir -p "$tmp/mirror" && mv "$root"/var/cache/apt/archives/*.deb "$tmp/mirror/" || return 1
  (cd "$tmp/mirror" && dpkg-scanpackages -m . >Packages 2>>"$log" && gzip -9k Packages) || return 1
  # apt's flat-repository Release file, so `apt-get update` needs no exceptions beyond [trusted=yes].
  cct_debian12_release "$tmp/mirror" >"$tmp/mirror/Release"

  cct_debian12_step "$start" "cleaning the base root"
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/apt/apt.conf.d/00cct-build" "$root"/etc/apt/sources.list.d/*
  echo "deb [trusted=yes] http://$CCT_MIRROR_ADDR:$CCT_MIRROR_PORT/ ./" >"$root/etc/apt/sources.list"
  # The tool under test runs `apt-get update` itself: no package lists, no caches from the build.
  find "$root/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +
  rm -rf "$root"/var/lib/apt/lists/partial/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/partial/*
  rm -f "$root"/etc/ssh/ssh_host_* "$root/etc/hostname" "$root/var/lib/dbus/machine-id"
  : >"$root/etc/machine-id"
  : >"$root/etc/resolv.conf"
  chmod 0644 "$root/etc/resolv.conf"   # nspawn's copy-host made it executable
  rm -rf "$root"/var/log/apt/* "$root/var/log/dpkg.log" "$root/var/log/bootstrap.log" "$root"/var/log/journal/*
  chmod 755 "$root"
}

cct_debian12_release() {   # Release for a flat repository in $1 (what apt-ftparchive release writes)
  local f
  printf 'Origin: clusterctl-testcluster\nLabel: clusterctl-testcluster debian12 mirror\nSuite: ./\nArchitectures: %s\nDate: %s\n' \
    "$(dpkg --print-architecture)" "$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
  echo "SHA256:"
  for f in Packages Packages.gz; do
    printf ' %s %s %s\n' "$(sha256sum "$1/$f" | cut -d' ' -f1)" "$(stat -c %s "$1/$f")" "$f"
  done
}
