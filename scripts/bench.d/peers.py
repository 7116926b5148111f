#!/usr/bin/env python3
"""scripts/bench --compare: writes the peers' inputs from the test cluster's inventory.json.

  peers.py STATE OUTDIR RENDERED   writes OUTDIR/job.json (pyinfra_deploy.py reads it through BENCH_JOB),
                                   OUTDIR/pyinfra-inventory.py and OUTDIR/ansible-inventory.json;
                                   RENDERED is `clusterctl render --out` of the same inventory

Hosts in name order, as clusterctl renders them (the firewall's sources, session.save_path), so that the
peers write byte for byte what clusterctl writes and `clusterctl plan` afterwards finds nothing to change.
"""
import json
import sys

state, out, rendered = sys.argv[1], sys.argv[2], sys.argv[3]
inventory = json.load(open(f"{state}/inventory.json"))
hosts = inventory["hosts"]
names = sorted(hosts)
ssh = inventory["ssh"]
port = inventory["memcached"]["port"]


def private(role):
    return [hosts[n]["privateAddress"] for n in names if role in hosts[n]["roles"]]


def php_extra():
    """The php.ini lines clusterctl sets besides the handler and the path (the session redundancy settings of
    the extension version the family ships), as clusterctl renders them for the first web host."""
    web = next(n for n in names if "web" in hosts[n]["roles"])
    settings = []
    for line in open(f"{rendered}/{web}/php-session.ini"):
        if line.startswith(";") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if key not in ("session.save_handler", "session.save_path"):
            settings.append([key, value])
    return settings


job = {
    "port": port,
    "hosts": {hosts[n]["address"]: {"name": n, "role": hosts[n]["roles"][0], "private": hosts[n]["privateAddress"]}
              for n in names},
    "memcache": private("memcache"),
    "web": private("web"),
    "phpExtra": php_extra(),
}
json.dump(job, open(f"{out}/job.json", "w"), indent=1)

with open(f"{out}/pyinfra-inventory.py", "w") as f:
    f.write("hosts = [\n")
    for n in names:
        data = {"ssh_user": ssh["user"], "ssh_port": ssh["port"], "ssh_key": ssh["identityFile"],
                "ssh_known_hosts_file": ssh["knownHostsFile"], "ssh_strict_host_key_checking": "yes"}
        f.write(f"    ({hosts[n]['address']!r}, {data!r}),\n")
    f.write("]\n")

ansible = {"all": {
    "vars": {
        "ansible_user": ssh["user"], "ansible_port": ssh["port"], "ansible_ssh_private_key_file": ssh["identityFile"],
        # Targets are namespaces over this machine's /usr: its Python is theirs.
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={ssh['knownHostsFile']} -o StrictHostKeyChecking=yes",
        "port": port, "memcache": job["memcache"], "web": job["web"], "php_extra": job["phpExtra"],
    },
    "children": {role: {"hosts": {hosts[n]["address"]: {"name": n, "private": hosts[n]["privateAddress"]}
                                  for n in names if role in hosts[n]["roles"]}}
                 for role in ("memcache", "web")},
}}
json.dump(ansible, open(f"{out}/ansible-inventory.json", "w"), indent=1)
