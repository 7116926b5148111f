# scripts/bench --compare: clusterctl's EL5 job done with pyinfra, for timing. The same commands clusterctl
# runs (yum -y install, chkconfig, service, iptables-restore, service iptables save) and the same files, so
# that `clusterctl plan` finds nothing to change afterwards (the bench checks it).
# The job (addresses, port) comes from the JSON file named by BENCH_JOB, written by scripts/bench.
import json
import os
import re
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server, yum

job = json.load(open(os.environ["BENCH_JOB"]))
me = job["hosts"][host.name]
port = job["port"]


def firewall(rules):
    """The CLUSTERCTL chain, first in INPUT, saved the EL5 way; only when it differs (no -C on EL5)."""
    want = "\n".join(["-A INPUT -j CLUSTERCTL"] + rules)
    restore = "\n".join(["*filter", ":CLUSTERCTL - [0:0]"] + rules + ["-I INPUT 1 -j CLUSTERCTL", "COMMIT"])
    server.shell(
        name="CLUSTERCTL chain",
        commands=[
            "have=$(iptables-save -t filter | grep -e '^-A CLUSTERCTL ' -e '^-A INPUT -j CLUSTERCTL$'); "
            f"[ \"$have\" = '{want}' ] || {{ printf '%s\\n' '{restore}' | iptables-restore --noflush "
            "&& service iptables save; }"
        ],
    )


def service(name, restart):
    server.shell(
        name=f"enable and start {name}",
        commands=[
            f"chkconfig --list {name} | grep -q '3:on' || chkconfig {name} on",
            f"service {name} status >/dev/null 2>&1 || service {name} start",
        ],
    )
    server.shell(name=f"restart {name}", commands=[f"service {name} restart"], _if=restart)


yum.packages(name="EPEL", packages=["epel-release"])
if me["role"] == "memcache":
    yum.packages(name="memcached", packages=["memcached"])
    config = files.put(
        name="/etc/sysconfig/memcached",
        src=StringIO(
            f"# /etc/sysconfig/memcached for {me['name']}: managed by clusterctl, local changes are overwritten.\n"
            "# Read by /etc/init.d/memcached (EL5): memcached listens only on the private address.\n"
            f'PORT="{port}"\nUSER="memcached"\nMAXCONN="1024"\nCACHESIZE="64"\nOPTIONS="-l {me["private"]}"\n'
        ),
        dest="/etc/sysconfig/memcached", user="root", group="root", mode="644",
    )
    firewall([f"-A CLUSTERCTL -i lo -p tcp -m tcp --dport {port} -j ACCEPT"]
             + [f"-A CLUSTERCTL -s {ip}/32 -p tcp -m tcp --dport {port} -j ACCEPT" for ip in job["web"]]
             + [f"-A CLUSTERCTL -p tcp -m tcp --dport {port} -j DROP",
                f"-A CLUSTERCTL -p udp -m udp --dport {port} -j DROP"])
    service("memcached", config.did_change)
else:
    yum.packages(name="httpd, PHP, memcache extension", packages=["httpd", "php", "php-pecl-memcache"])
    save_path = ", ".join(f"tcp://{ip}:{port}" for ip in job["memcache"])
    handler = files.line(name="session.save_handler", path="/etc/php.ini",
                         line=r"^session\.save_handler\s*=.*$", replace="session.save_handler = memcache")
    path = files.line(name="session.save_path", path="/etc/php.ini",
                      line=r"^session\.save_path\s*=.*$", replace=f'session.save_path = "{save_path}"')
    # The redundancy settings: appended where missing (files.line has no "insert after"); PHP reads them anywhere.
    extra = [files.line(name=key, path="/etc/php.ini", line=rf"^{re.escape(key)}\s*=.*$", replace=f"{key} = {value}")
             for key, value in job["phpExtra"]]
    firewall(["-A CLUSTERCTL -p tcp -m tcp --dport 80 -j ACCEPT", "-A CLUSTERCTL -p tcp -m tcp --dport 443 -j ACCEPT"])
    service("httpd", lambda: any(op.did_change() for op in [handler, path, *extra]))
