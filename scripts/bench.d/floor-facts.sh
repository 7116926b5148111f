# The OpenSSH floor's command (scripts/bench): what clusterctl's facts script does on an EL5 host, written
# out for one role, so that the floor pays for the same processes (one rpm -q for all packages, service
# status, stat, od, iptables-save) and only the tool's own overhead separates plan from it. Run as `sh -s ROLE`.
LC_ALL=C; export LC_ALL
read -r name </etc/redhat-release
echo "os $name"
v=${name##*' release '}; echo "release ${v%%[!0-9.]*}"
s=none; [ -f /var/lib/clusterctl/run.lock.serial ] && read -r s </var/lib/clusterctl/run.lock.serial
echo "lock-serial $s"
[ -L /var/lib/clusterctl/run.lock ] && echo "lock $(readlink /var/lib/clusterctl/run.lock)"
if [ "$1" = memcache ]; then
  packages="epel-release memcached" service=memcached file=/etc/sysconfig/memcached
else
  packages="epel-release httpd php php-pecl-memcache" service=httpd file=/etc/php.ini
fi
q=$(rpm -q $packages 2>/dev/null)
for p in $packages; do
  case $q in *"$p-"[0-9]*) echo "package $p installed" ;; *) echo "package $p absent" ;; esac
done
e=disabled; for l in /etc/rc.d/rc3.d/S[0-9][0-9]$service; do [ -e "$l" ] && e=enabled; done
if service "$service" status >/dev/null 2>&1; then r=running; else r=stopped; fi
echo "service $service $e $r"
if [ -f "$file" ]; then
  echo "file present $(stat -c '%a %U %G' "$file") $file"
  od -An -v -tx1 "$file"
else echo "file absent $file"; fi
if command -v getenforce >/dev/null 2>&1; then echo "selinux $(getenforce)"; else echo 'selinux disabled'; fi
echo begin-iptables
iptables-save 2>/dev/null | od -An -v -tx1
echo end-iptables
