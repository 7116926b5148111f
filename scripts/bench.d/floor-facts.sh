# The OpenSSH floor's command (scripts/bench): what clusterctl's facts script does on an EL5 host, written
# out for one role, so that the floor pays for the same processes (rpm, chkconfig, service, stat, od,
# iptables-save) and only the tool's own overhead separates plan from it. Run as `sh -s ROLE`.
LC_ALL=C; export LC_ALL
echo "os $(head -n 1 /etc/redhat-release)"
echo "release $(sed -n 's/.* release \([0-9][0-9.]*\).*/\1/p' /etc/redhat-release | head -n 1)"
if [ "$1" = memcache ]; then
  packages="epel-release memcached" service=memcached file=/etc/sysconfig/memcached
else
  packages="epel-release httpd php php-pecl-memcache" service=httpd file=/etc/php.ini
fi
for p in $packages; do
  if rpm -q "$p" >/dev/null 2>&1; then echo "package $p installed"; else echo "package $p absent"; fi
done
if chkconfig --list "$service" 2>/dev/null | grep -q '[[:space:]]3:on'; then e=enabled; else e=disabled; fi
if service "$service" status >/dev/null 2>&1; then r=running; else r=stopped; fi
echo "service $service $e $r"
if [ -f "$file" ]; then
  echo "file present $(stat -c '%a %U %G' "$file") $file"
  od -An -v -tx1 "$file"
else echo "file absent $file"; fi
if command -v getenforce >/dev/null 2>&1; then echo "selinux $(getenforce)"; else echo 'selinux disabled'; fi
echo begin-iptables
iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/' | od -An -v -tx1
echo end-iptables
