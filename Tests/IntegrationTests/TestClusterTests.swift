import Foundation
import Testing

/// Tests of the namespace test cluster itself (issue 4): isolation between hosts, real sshd with strict
/// host keys, and the EL5 profile's tools driving real daemons. Everything runs over real SSH.
@Suite("Test cluster: hosts", .serialized, .timeLimit(.minutes(5)))
struct TestClusterTests {
    @Test("every host answers over SSH with strict host-key checking, as root and as deploy with sudo")
    func everyHostReachableWithStrictHostKeys() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1) { cluster in
            #expect(cluster.hosts.map(\.name) == ["mc1", "web1", "web2", "other1"])
            for host in cluster.hosts {
                let root = try await cluster.ssh(host.name, "hostname; id -u")
                #expect(root.status == 0, "\(host.name): \(root.stderr)")
                #expect(root.stdout == "\(host.name)\n0\n")
                let deploy = try await cluster.ssh(host.name, "id -un; sudo -n id -u", user: "deploy")
                #expect(deploy.status == 0, "\(host.name): \(deploy.stderr)")
                #expect(deploy.stdout == "deploy\n0\n")
            }
            // Strictness: an unknown host key is refused, and so is a wrong one.
            let mc1 = try cluster.address("mc1")
            let empty = cluster.stateDirectory + "/known_hosts.empty"
            try Data().write(to: URL(fileURLWithPath: empty))
            let unknown = try await runProcess("/usr/bin/ssh", cluster.sshOptions(knownHosts: empty) + ["root@\(mc1)", "true"])
            #expect(unknown.status == 255)
            #expect(unknown.stderr.contains("Host key verification failed"), "\(unknown.stderr)")

            let web1Key = try knownHostsKeys(cluster)[try cluster.address("web1")]!
            let wrong = cluster.stateDirectory + "/known_hosts.wrong"
            try Data("\(mc1) \(web1Key)\n".utf8).write(to: URL(fileURLWithPath: wrong))
            let mismatch = try await runProcess("/usr/bin/ssh", cluster.sshOptions(knownHosts: wrong) + ["root@\(mc1)", "true"])
            #expect(mismatch.status == 255)
            #expect(mismatch.stderr.contains("Host key verification failed"), "\(mismatch.stderr)")
        }
    }

    @Test("hostnames and host keys differ, and each host's key is the one in known_hosts")
    func hostnamesAndHostKeysDiffer() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1) { cluster in
            let known = try knownHostsKeys(cluster)
            var names: Set<String> = [], keys: Set<String> = []
            for host in cluster.hosts {
                let out = try await cluster.ssh(host.name, "uname -n; cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub; ls /etc/ssh | grep -c '^ssh_host_'")
                let lines = out.stdout.split(separator: "\n").map(String.init)
                try #require(lines.count == 3, "\(host.name): \(out.stdout) \(out.stderr)")
                names.insert(lines[0])
                keys.insert(lines[1])
                #expect(known[host.address] == lines[1], "\(host.name)'s key is not the one in known_hosts")
                #expect(lines[2] == "2", "\(host.name) must have only its ed25519 key pair, not the machine's keys")
            }
            #expect(names.count == cluster.hosts.count)
            #expect(keys.count == cluster.hosts.count)
            #expect(known.count == cluster.hosts.count)
        }
    }

    @Test("an iptables rule on one host does not affect another (or the machine)")
    func iptablesRulesAreIsolated() async throws {
        try await TestCluster.withCluster(memcache: 0, web: 2) { cluster in
            for name in ["web1", "web2"] {
                let listen = try await cluster.ssh(name, "setsid nc -lk 9999 </dev/null >/dev/null 2>&1 & sleep 0.3; echo started")
                #expect(listen.status == 0, "\(listen.stderr)")
            }
            let web1 = try cluster.address("web1"), web2 = try cluster.address("web2")
            #expect(try await probe(web1, 9999), "the listener on web1 must be reachable before the rule")
            #expect(try await probe(web2, 9999))

            let block = try await cluster.ssh("web1", "iptables -A INPUT -p tcp --dport 9999 -j DROP && iptables-save -t filter")
            #expect(block.status == 0, "\(block.stderr)")
            #expect(block.stdout.contains("-A INPUT -p tcp -m tcp --dport 9999 -j DROP"), "\(block.stdout)")

            #expect(try await !probe(web1, 9999), "web1 drops 9999 now")
            #expect(try await probe(web2, 9999), "web2 has no such rule and must still answer")
            let web2Rules = try await cluster.ssh("web2", "iptables-save")
            #expect(web2Rules.status == 0)
            #expect(!web2Rules.stdout.contains("9999"))
            // The same rule seen from inside web1 without SSH (nsenter into its namespaces).
            let inside = try await cluster.exec("web1", "hostname; iptables-save -t filter | grep -c 'dport 9999'")
            #expect(inside.stdout == "web1\n1\n", "\(inside.stdout)\(inside.stderr)")
            let machine = try await runProcess("/usr/sbin/iptables", ["-S"])
            #expect(!machine.stdout.contains("9999"), "the machine's own firewall must be untouched")
        }
    }

    @Test("a package installed on one host is absent on the others")
    func packagesAreIsolated() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let install = try await cluster.ssh("web1", "yum -y install httpd")
            #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
            #expect(install.stdout.contains("Complete!"))

            let web1 = try await cluster.ssh("web1", "rpm -q httpd && test -x /etc/init.d/httpd && tail -n 1 /var/log/clusterctl-test/yum.log")
            #expect(web1.status == 0, "\(web1.stdout)\(web1.stderr)")
            #expect(web1.stdout.hasPrefix("httpd-2.2.3-43.el5.centos\n"))
            #expect(web1.stdout.contains("uid=0 yum -y install httpd => 0"))
            for other in ["web2", "mc1"] {
                let q = try await cluster.ssh(other, "rpm -q httpd")
                #expect(q.status == 1)
                #expect(q.stdout == "package httpd is not installed\n")
                let script = try await cluster.ssh(other, "test -e /etc/init.d/httpd || test -e /var/log/clusterctl-test/yum.log")
                #expect(script.status == 1, "\(other) must have neither httpd's init script nor a yum log")
            }
        }
    }

    @Test("memcached started through `service` listens with the options from /etc/sysconfig/memcached")
    func memcachedRunsWithSysconfigOptions() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1) { cluster in
            let noEpel = try await cluster.ssh("mc1", "yum -y install memcached; rpm -q memcached")
            #expect(noEpel.stdout.contains("No package memcached available."), "\(noEpel.stdout)")
            #expect(noEpel.status == 1, "memcached is EPEL-only: not installed without epel-release")

            let mc1 = try cluster.address("mc1")
            let setup = try await cluster.ssh("mc1", """
                set -e
                yum -y install epel-release >/dev/null
                yum -y install memcached >/dev/null
                cat > /etc/sysconfig/memcached <<'EOF'
                PORT="11311"
                USER="memcached"
                MAXCONN="77"
                CACHESIZE="12"
                OPTIONS="-l \(mc1) -t 3"
                EOF
                service memcached start
                """)
            #expect(setup.status == 0, "\(setup.stdout)\(setup.stderr)")
            #expect(setup.stdout.contains("Starting memcached: [  OK  ]"))

            let stats = try await memcachedCommand(mc1, 11311, "stats")
            #expect(stats.contains("STAT limit_maxbytes 12582912"), "\(stats)")
            #expect(stats.contains("STAT max_connections 77"))
            #expect(stats.contains("STAT threads 3"))
            #expect(try await !probe(mc1, 11211), "the sysconfig port replaces the default")

            let proc = try await cluster.ssh("mc1", "ps -o uid=,args= -C memcached; id -u memcached; service memcached status; grep -c 'service memcached start => 0' /var/log/clusterctl-test/service.log")
            let lines = proc.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(lines.count == 4, "\(proc.stdout)\(proc.stderr)")
            #expect(lines[0].hasPrefix(lines[1] + " "), "memcached must run as the sysconfig USER: \(lines[0])")
            #expect(lines[0].contains("-p 11311 -u memcached -m 12 -c 77"))
            #expect(lines[2].hasPrefix("memcached (pid "))
            #expect(lines[3] == "1")

            let stop = try await cluster.ssh("mc1", "service memcached stop; service memcached status")
            #expect(stop.status == 3, "status after stop: \(stop.stdout)")
            #expect(try await !probe(mc1, 11311))
        }
    }

    @Test("the EL5 profile: CentOS 5.5, no Debian tools, EL package and service tools, php only once installed")
    func el5ProfileLooksLikeCentOS() async throws {
        try await TestCluster.withCluster(memcache: 0, web: 1) { cluster in
            let look = try await cluster.ssh("web1", """
                cat /etc/redhat-release
                for t in systemctl apt apt-get dpkg update-rc.d php memcached; do command -v $t >/dev/null && echo "visible: $t"; done
                for t in yum rpm chkconfig service iptables; do command -v $t >/dev/null || echo "missing: $t"; done
                test -e /etc/php.ini && echo "php.ini before php"
                chkconfig --list iptables
                """)
            #expect(look.stdout == "CentOS release 5.5 (Final)\niptables       \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n",
                    "\(look.stdout)\(look.stderr)")

            let php = try await cluster.ssh("web1", """
                yum -y install php >/dev/null
                rpm -q httpd php
                php -m | grep -ci '^memcache'
                yum -y install epel-release >/dev/null
                yum -y install php-pecl-memcache >/dev/null
                php -m | grep -i '^memcache$'
                grep -E '^\\[Session\\]|^session.save_(handler|path)' /etc/php.ini
                """)
            #expect(php.stdout == """
                httpd-2.2.3-43.el5.centos
                php-5.1.6-27.el5
                0
                memcache
                [Session]
                session.save_handler = files
                session.save_path = "/var/lib/php/session"

                """, "\(php.stderr)")

            // EL5's iptables 1.3.5 has no -C (check) and no -S (list rules).
            let check = try await cluster.ssh("web1", "iptables -C INPUT -j ACCEPT")
            #expect(check.status == 2)
            #expect(check.stderr.contains("iptables v1.3.5: Unknown arg `-C'"), "\(check.stderr)")
            let list = try await cluster.ssh("web1", "iptables -S; iptables -L INPUT -n | head -n 1")
            #expect(list.stderr.contains("Unknown arg `-S'"))
            #expect(list.stdout == "Chain INPUT (policy ACCEPT)\n")

            let asDeploy = try await cluster.ssh("web1", "rpm -q bash; yum -y install memcached", user: "deploy")
            #expect(asDeploy.status == 1)
            #expect(asDeploy.stdout.hasPrefix("bash-3.2-24.el5\n"))
            #expect(asDeploy.stderr.contains("You need to be root"))
        }
    }
}

/// known_hosts of the cluster: address → "ssh-ed25519 AAAA...".
func knownHostsKeys(_ cluster: TestCluster) throws -> [String: String] {
    let text = try String(contentsOfFile: cluster.knownHostsPath, encoding: .utf8)
    var keys: [String: String] = [:]
    for line in text.split(separator: "\n") {
        let f = line.split(separator: " ")
        if f.count >= 3 { keys[String(f[0])] = "\(f[1]) \(f[2])" }
    }
    return keys
}

/// Whether a TCP connection from the machine (root namespace) to address:port succeeds.
func probe(_ address: String, _ port: Int) async throws -> Bool {
    try await runProcess("/usr/bin/nc", ["-z", "-w", "2", address, "\(port)"]).status == 0
}

/// One memcached text-protocol command from the machine, e.g. "stats".
func memcachedCommand(_ address: String, _ port: Int, _ command: String) async throws -> String {
    try await runProcess("/usr/bin/nc", ["-q", "1", "-w", "2", address, "\(port)"], stdin: "\(command)\r\nquit\r\n").stdout
}
