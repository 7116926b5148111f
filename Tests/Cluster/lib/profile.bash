# Builds STATE/layers/{etc,usr,var}: the EL5 profile as read-only overlay layers shared by every host
# (each host stacks its own upper dir on top). Whiteouts hide the machine's Debian tools, binaries
# that EL5 only has once a package is installed, and Debian-only files.
# shellcheck shell=bash

cct_build_el5_layers() {
  local state=$1 src=$here/profiles/el5 L=$1/layers p i
  mkdir -p "$L"
  cp -a "$src/etc" "$src/usr" "$src/var" "$L/"
  # EL keeps init scripts and runlevel links under /etc/rc.d; /etc/init.d and /etc/rcN.d are symlinks.
  # A symlink in a layer hides the machine's directory of the same name (Debian's scripts stay invisible).
  mkdir -p "$L/etc/rc.d/init.d"
  ln -s rc.d/init.d "$L/etc/init.d"
  for i in 0 1 2 3 4 5 6; do
    mkdir -p "$L/etc/rc.d/rc$i.d"
    ln -s "rc.d/rc$i.d" "$L/etc/rc$i.d"
  done
  # Services of the base install, enabled as on a stock CentOS 5.5 (what chkconfig would have done).
  for i in 0 1 2 3 4 5 6; do
    case $i in
      2|3|4|5) ln -s ../init.d/iptables "$L/etc/rc.d/rc$i.d/S08iptables"; ln -s ../init.d/sshd "$L/etc/rc.d/rc$i.d/S55sshd" ;;
      *) ln -s ../init.d/iptables "$L/etc/rc.d/rc$i.d/K92iptables"; ln -s ../init.d/sshd "$L/etc/rc.d/rc$i.d/K25sshd" ;;
    esac
  done
  mkdir -p "$L/var/log/clusterctl-test" "$L/var/lib/rpm/cct-files" "$L/var/lock/subsys"
  chmod 1777 "$L/var/log/clusterctl-test"
  # Real daemons behind the package shims: `yum install` links them into /usr/bin.
  mkdir -p "$L/usr/libexec/cct-el5"
  cp /usr/bin/memcached "$L/usr/libexec/cct-el5/memcached"
  cp "$(readlink -f /usr/bin/php)" "$L/usr/libexec/cct-el5/php"
  # Whiteouts (character device 0/0) for every machine path the profile hides.
  while read -r p; do
    case $p in ''|'#'*) continue ;; esac
    for i in $p; do   # glob against the machine's filesystem
      [ -e "$i" ] || [ -L "$i" ] || continue
      [ -e "$L$i" ] || [ -L "$L$i" ] && continue
      mkdir -p "$(dirname "$L$i")"
      mknod "$L$i" c 0 0
    done
  done <"$src/hidden"
  chown -R root:root "$L"
  chmod 0755 "$L/usr/bin/"* "$L/usr/sbin/"* "$L/etc/rc.d/init.d/"*
}
