import Foundation
import Testing

/// The el9 profile of the test cluster itself (not clusterctl): hosts that boot a real systemd and look like
/// Rocky Linux 9.4 to everything clusterctl touches, with EL9's traps real or faithfully simulated:
/// memcached on localhost only, firewalld rejecting what plain iptables accepts (and flushing it on reload),
/// php-fpm's pool overriding php.ini, EPEL/CRB gating, iptables-services being a provide, SELinux denying
/// httpd_t → memcache_port_t. Over real SSH, as root unless said otherwise.
@Suite("Test cluster: el9 hosts", .serialized, .timeLimit(.minutes(10)))
struct ELClusterEL9Tests {
    @Test("el9 hosts boot systemd, look like Rocky 9.4, run firewalld and enforce the simulated SELinux")
    func hostsBootRocky() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1, profile: .el9) { cluster in
            print("testcluster up, 4 el9 hosts, until every sshd answers: \(cluster.upDuration.formatted(.units(allowed: [.seconds, .milliseconds])))")
            #expect(cluster.hosts.allSatisfy { $0.profile == .el9 })
            let known = try knownHostsKeys(cluster)
            for host in cluster.hosts {
                let lines = try await cluster.run(host.name, elIdentityProbe).split(separator: "\n").map(String.init)
                try #require(lines.count == 10, "\(host.name): \(lines)")
                #expect(lines[0] == "running", "\(host.name): systemctl is-system-running: \(lines[0])")
                #expect(lines[1] == "systemd")
                #expect(lines[2] == "rocky|rhel centos fedora|9.4|Rocky Linux 9.4 (Blue Onyx)")
                #expect(lines[3] == "Rocky Linux release 9.4 (Blue Onyx)")
                #expect(lines[4] == "/usr/bin/dnf /usr/bin/yum /usr/bin/rpm no-apt-get no-dpkg no-apt no-dpkg-query no-debian_version")
                #expect(lines[5] == "rocky-release-9.4-1.7.el9.noarch firewalld-1.3.4-1.el9.noarch")
                #expect(lines[6] == "running public cockpit dhcpv6-client ssh")
                #expect(lines[7] == "Enforcing httpd_can_network_memcache --> off")
                #expect(lines[8] == "active active active")
                #expect(known[host.address] == lines[9], "\(host.name)'s key is not the one in known_hosts")
                expectSuccess(try await cluster.ssh(host.name, "sudo -n rpm -q sudo", user: "deploy"))
            }
        }
    }

    @Test("dnf installs memcached as EL9's: disabled, localhost only; firewalld rejects what iptables accepts")
    func memcachedAndFirewalld() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1, profile: .el9) { cluster in
            let mc1 = try cluster.address("mc1")
            let install = try await cluster.ssh("mc1", "dnf -y install memcached")
            #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
            #expect(install.stdout.contains("Installing:\n memcached ") && install.stdout.hasSuffix("Complete!\n"), "\(install.stdout)")
            let installed = try await cluster.run("mc1", """
                rpm -q memcached; systemctl is-enabled memcached || true; systemctl is-active memcached || true
                cat /etc/sysconfig/memcached
                systemctl cat memcached | grep -E '^(EnvironmentFile|ExecStart)='
                id -un memcached; getent passwd memcache || echo no-memcache
                tail -n 1 /var/log/clusterctl-test/dnf.log | cut -d' ' -f2-
                """)
            #expect(installed == """
                memcached-1.6.9-7.el9.x86_64\ndisabled\ninactive
                PORT="11211"\nUSER="memcached"\nMAXCONN="1024"\nCACHESIZE="64"\nOPTIONS="-l 127.0.0.1,::1"
                EnvironmentFile=/etc/sysconfig/memcached
                ExecStart=/usr/bin/memcached -p ${PORT} -u ${USER} -m ${CACHESIZE} -c ${MAXCONN} $OPTIONS
                memcached\nno-memcache\nuid=0 dnf -y install memcached => 0\n
                """)

            // The trap: started as shipped, memcached answers on localhost only.
            #expect(try await cluster.run("mc1", "systemctl start memcached && sleep 1 && \(listening(11211))")
                    == "127.0.0.1:11211\n[::1]:11211\n")

            // Listening everywhere, it is still behind firewalld; an iptables ACCEPT does not open it.
            try await cluster.run("mc1", "sed -i 's/^OPTIONS=.*/OPTIONS=\"\"/' /etc/sysconfig/memcached && systemctl restart memcached && sleep 1")
            #expect(try await cluster.run("mc1", listening(11211)) == "*:11211\n", "memcached listens on every address")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211).contains("No route to host"))
            try await cluster.run("mc1", "iptables -I INPUT -p tcp --dport 11211 -j ACCEPT")
            #expect(try await cluster.run("mc1", "iptables -S INPUT") == "-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 11211 -j ACCEPT\n")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211).contains("No route to host"),
                    "a packet accepted by iptables is still rejected by firewalld's zone")
            // firewall-cmd --reload flushes the plain iptables rule; the port opened in firewalld works.
            #expect(try await cluster.run("mc1", "firewall-cmd --reload && iptables -S INPUT") == "success\n-P INPUT ACCEPT\n")
            try await cluster.run("mc1", "firewall-cmd --add-port=11211/tcp")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211) == "open\n")
            // With the firewall open, the package's OPTIONS alone keep the web hosts out.
            try await cluster.run("mc1", "sed -i 's/^OPTIONS=.*/OPTIONS=\"-l 127.0.0.1,::1\"/' /etc/sysconfig/memcached && systemctl restart memcached && sleep 1")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211).contains("Connection refused"))

            // SELinux: a port not labeled memcache_port_t cannot be bound while enforcing.
            try await cluster.run("mc1", "sed -i 's/^PORT=.*/PORT=\"11311\"/' /etc/sysconfig/memcached")
            let restart = try await cluster.ssh("mc1", "systemctl restart memcached; sleep 1; systemctl is-active memcached")
            #expect(restart.stdout == "failed\n", "\(restart.stdout)\(restart.stderr)")
            #expect(try await cluster.run("mc1", "journalctl -u memcached -o cat --no-pager | grep 11311")
                    .contains("failed to listen on TCP port 11311: Permission denied"))
            // semanage comes with policycoreutils-python-utils, which a minimal install lacks.
            #expect(try await cluster.ssh("mc1", "semanage port -l").stderr.contains("semanage: command not found"))
            let label = try await cluster.run("mc1", """
                dnf -y -q install policycoreutils-python-utils
                semanage port -a -t memcache_port_t -p tcp 11311 && semanage port -l | grep '^memcache_port_t *tcp' | tr -s ' '
                systemctl restart memcached && sleep 1 && \(listening(11311))
                """)
            #expect(label == "memcache_port_t tcp 11311, 11211\n127.0.0.1:11311\n[::1]:11311\n", "\(label)")
        }
    }

    @Test("httpd hands PHP to php-fpm, whose pool keeps sessions in files over php.ini; EPEL and CRB gate the extensions")
    func webStackAndRepositories() async throws {
        try await TestCluster.withCluster(memcache: 0, web: 1, profile: .el9) { cluster in
            let web1 = try cluster.address("web1")
            let install = try await cluster.ssh("web1", "dnf -y install httpd php")
            #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
            for package in ["httpd-2.4.57-8.el9.x86_64", "php-fpm-8.0.30-1.el9_2.x86_64", "php-cli-8.0.30-1.el9_2.x86_64"] {
                #expect(install.stdout.contains("\n  \(package)\n"), "dnf installs \(package) with php")
            }
            #expect(try await cluster.run("web1", "systemctl is-enabled httpd php-fpm || true") == "disabled\ndisabled\n")
            try await cluster.run("web1", "cat > /var/www/html/info.php <<'EOF'\n\(infoPage)\nEOF")
            try await cluster.run("web1", "systemctl start httpd && sleep 1")
            #expect(try await cluster.run("web1", "systemctl is-active httpd php-fpm") == "active\nactive\n",
                    "php-fpm comes up with httpd (httpd.service.d/php-fpm.conf)")
            #expect(try await http(web1, "/info.php", sessionID: "none").isEmpty, "firewalld does not let HTTP in yet")
            try await cluster.run("web1", "firewall-cmd -q --permanent --add-service=http && firewall-cmd -q --reload")

            // Sessions in files, from the pool's php_value lines; a second request finds the session again.
            let session = "el9files\(UInt32.random(in: 1000...9999))"
            #expect(try await http(web1, "/info.php", sessionID: session) == "fpm-fcgi files /var/lib/php/session 1")
            #expect(try await http(web1, "/info.php", sessionID: session) == "fpm-fcgi files /var/lib/php/session 2")
            #expect(try await cluster.run("web1", "stat -c '%U %a' /var/lib/php/session/sess_\(session)") == "apache 600\n")

            // EPEL: the extensions are not found until epel-release is installed; strict dnf fails the command.
            let noEPEL = try await cluster.ssh("web1", "dnf -y install epel-release php-pecl-memcache")
            #expect(noEPEL.status == 1 && noEPEL.stdout.contains("No match for argument: php-pecl-memcache"), "\(noEPEL.stdout)")
            #expect(noEPEL.stderr.contains("Error: Unable to find a match: php-pecl-memcache"))
            #expect(try await cluster.ssh("web1", "rpm -q epel-release").stdout == "package epel-release is not installed\n")
            try await cluster.run("web1", "dnf -y install epel-release && dnf -y install php-pecl-memcache")
            let crb = try await cluster.ssh("web1", "dnf -y install php-pecl-memcached")
            #expect(crb.status == 1 && crb.stderr.contains("nothing provides libmemcached-awesome needed by php-pecl-memcached-3.2.0-1.el9.x86_64 from epel"),
                    "\(crb.stdout)\(crb.stderr)")
            try await cluster.run("web1", "crb enable && dnf -y install php-pecl-memcached")
            #expect(try await cluster.run("web1", "php -m | grep -x -e memcache -e memcached -e igbinary | sort")
                    == "igbinary\nmemcache\nmemcached\n")

            // The trap: php.ini alone does not move the sessions; php.ini is what the CLI reads, though.
            try await cluster.run("web1", """
                sed -i 's|^session.save_handler = files|session.save_handler = memcache|; s|^;session.save_path = "/tmp"|session.save_path = "tcp://127.0.0.1:11211"|' /etc/php.ini
                systemctl restart php-fpm
                """)
            #expect(try await http(web1, "/info.php", sessionID: session) == "fpm-fcgi files /var/lib/php/session 3")
            #expect(try await cluster.run("web1", "php -r 'echo ini_get(\"session.save_handler\"), \" \", ini_get(\"session.save_path\");'")
                    == "memcache tcp://127.0.0.1:11211")
            // The pool's lines win.
            try await cluster.run("web1", """
                sed -i 's|^php_value\\[session.save_handler\\] = files|php_value[session.save_handler] = memcache|' /etc/php-fpm.d/www.conf
                systemctl restart php-fpm
                """)
            #expect(try await http(web1, "/info.php?ini", sessionID: session) == "fpm-fcgi memcache /var/lib/php/session")

            // iptables-services is only a provide of iptables-nft-services: rpm -q by that name fails.
            let services = try await cluster.ssh("web1", "dnf -y install iptables-services && rpm -q iptables-services")
            #expect(services.status == 1 && services.stdout.contains("\n  iptables-nft-services-1.8.10-2.el9.noarch\n"), "\(services.stdout)")
            #expect(services.stdout.hasSuffix("package iptables-services is not installed\n"))
            #expect(try await cluster.run("web1", """
                rpm -q --whatprovides iptables-services
                iptables -A INPUT -p tcp --dport 11211 -j ACCEPT && service iptables save && grep -c 'dport 11211' /etc/sysconfig/iptables
                """) == "iptables-nft-services-1.8.10-2.el9.noarch\niptables: Saving firewall rules to /etc/sysconfig/iptables: [  OK  ]\n1\n")
        }
    }

    @Test("SELinux keeps httpd_t off memcached until setsebool -P; a reboot keeps packages, enabled services, -P booleans")
    func selinuxTrapAndReboot() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1, profile: .el9) { cluster in
            let mc1 = try cluster.address("mc1"), web1 = try cluster.address("web1")
            try await cluster.run("mc1", """
                dnf -y -q install memcached && sed -i 's/^OPTIONS=.*/OPTIONS=""/' /etc/sysconfig/memcached
                systemctl enable --now memcached && firewall-cmd -q --permanent --add-port=11211/tcp && firewall-cmd -q --reload
                """)
            try await cluster.run("web1", """
                dnf -y -q install epel-release && dnf -y -q install httpd php php-pecl-memcache
                sed -i 's|^php_value\\[session.save_handler\\] = files|php_value[session.save_handler] = memcache|; s|^php_value\\[session.save_path\\] .*|php_value[session.save_path] = "tcp://\(mc1):11211"|' /etc/php-fpm.d/www.conf
                systemctl enable -q --now httpd php-fpm && firewall-cmd -q --permanent --add-service=http && firewall-cmd -q --reload
                """)
            try await cluster.run("web1", "cat > /var/www/html/mc.php <<'EOF'\n\(memcachePage(mc1))\nEOF")
            try await cluster.run("web1", "cat > /var/www/html/info.php <<'EOF'\n\(infoPage)\nEOF")
            #expect(try await cluster.run("web1", "getenforce; getsebool httpd_can_network_memcache") == "Enforcing\nhttpd_can_network_memcache --> off\n")

            // httpd_t (php-fpm's workers, user apache) cannot reach memcached; root's CLI (unconfined) can.
            #expect(try await http(web1, "/mc.php", sessionID: "none").hasPrefix("failed"))
            #expect(try await cluster.run("web1", "php -r \"\(memcacheProbe(mc1))\"") == "connected")
            let blocked = "el9se\(UInt32.random(in: 1000...9999))"
            _ = try await http(web1, "/info.php", sessionID: blocked)
            #expect(try await http(web1, "/info.php", sessionID: blocked) != "fpm-fcgi memcache tcp://\(mc1):11211 2",
                    "no session can be stored while SELinux denies the connection")
            // A firewalld reload does not lift the denial (its nft table is not firewalld's).
            try await cluster.run("web1", "firewall-cmd -q --reload")
            #expect(try await http(web1, "/mc.php", sessionID: "none").hasPrefix("failed"))

            try await cluster.run("web1", "setsebool -P httpd_can_network_memcache on && setsebool httpd_can_network_connect on")
            #expect(try await http(web1, "/mc.php", sessionID: "none") == "connected")
            let shared = "el9mc\(UInt32.random(in: 1000...9999))"
            #expect(try await http(web1, "/info.php", sessionID: shared) == "fpm-fcgi memcache tcp://\(mc1):11211 1")
            #expect(try await http(web1, "/info.php", sessionID: shared) == "fpm-fcgi memcache tcp://\(mc1):11211 2")
            #expect(try await cluster.ssh("web1", "ls /var/lib/php/session/sess_\(shared)").status != 0, "the session is in memcached")

            // Reboots: the packages, enabled services, the firewall's permanent rules and setsebool -P stay;
            // the boolean set without -P does not.
            let took = try await cluster.reboot("web1")
            print("testcluster reboot of an el9 host (power off, boot, sshd answers): \(took.formatted(.units(allowed: [.seconds, .milliseconds])))")
            try await cluster.reboot("mc1")
            #expect(try await cluster.run("mc1", "systemctl is-system-running --wait; systemctl is-active memcached; rpm -q memcached")
                    == "running\nactive\nmemcached-1.6.9-7.el9.x86_64\n")
            #expect(try await cluster.run("web1", """
                systemctl is-system-running --wait; systemctl is-active httpd php-fpm firewalld
                getsebool httpd_can_network_memcache httpd_can_network_connect; rpm -q php-pecl-memcache
                """) == """
                running\nactive\nactive\nactive
                httpd_can_network_memcache --> on\nhttpd_can_network_connect --> off\nphp-pecl-memcache-8.2-1.el9.x86_64\n
                """)
            // memcached came back empty (it keeps nothing on disk); new sessions work at once.
            let fresh = "el9boot\(UInt32.random(in: 1000...9999))"
            #expect(try await http(web1, "/info.php", sessionID: fresh) == "fpm-fcgi memcache tcp://\(mc1):11211 1")
            #expect(try await http(web1, "/info.php", sessionID: fresh) == "fpm-fcgi memcache tcp://\(mc1):11211 2")
        }
    }
}

/// One line each: system state, PID 1, os-release, redhat-release, what clusterctl finds on PATH, two rpm -q,
/// firewalld (state, default zone, services), SELinux, three units, the host key.
let elIdentityProbe = """
    systemctl is-system-running --wait
    ps -o comm= -p 1
    . /etc/os-release; echo "$ID|$ID_LIKE|$VERSION_ID|$PRETTY_NAME"
    cat /etc/redhat-release
    for t in dnf yum rpm apt-get dpkg apt dpkg-query; do command -v $t || echo no-$t; done | tr '\\n' ' '
    test -e /etc/debian_version && echo debian_version || echo no-debian_version
    rpm -q $(. /etc/os-release; echo $ID)-release firewalld | tr '\\n' ' ' | sed 's/ $//'; echo
    echo "$(firewall-cmd --state) $(firewall-cmd --get-default-zone) $(firewall-cmd --list-services)"
    echo "$(getenforce) $(getsebool httpd_can_network_memcache)"
    systemctl is-active sshd firewalld cct-selinux | tr '\\n' ' ' | sed 's/ $//'; echo
    cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub
    """

/// Prints the PHP SAPI, session handler and path, and (without `?ini`) the session's request counter.
let infoPage = """
    <?php
    echo php_sapi_name(), ' ', ini_get('session.save_handler'), ' ', ini_get('session.save_path');
    if (isset($_GET['ini'])) { exit; }
    @session_start();
    $_SESSION['n'] = isset($_SESSION['n']) ? $_SESSION['n'] + 1 : 1;
    echo ' ', $_SESSION['n'];
    """

/// A page that connects to memcached on `address` with the memcache extension: "connected" or "failed ...".
func memcachePage(_ address: String) -> String {
    "<?php\n$m = new Memcache; echo @$m->connect('\(address)', 11211, 2) ? 'connected' : 'failed';"
}

/// The same connect from PHP's CLI (`php -r`).
func memcacheProbe(_ address: String) -> String {
    "\\$m = new Memcache; echo @\\$m->connect('\(address)', 11211, 2) ? 'connected' : 'failed';"
}

/// The local addresses listening on a TCP port, one per line, sorted (`*` for every address).
func listening(_ port: Int) -> String {
    "ss -Hltn 'sport = :\(port)' | awk '{print $4}' | sed 's/^0.0.0.0:/*:/; s/^\\[::\\]:/*:/' | sort -u"
}

/// A TCP connect from `host` to `address:port` with bash's /dev/tcp: "open", or bash's error.
func tcpProbe(_ cluster: TestCluster, from host: String, to address: String, port: Int) async throws -> String {
    let out = try await cluster.ssh(host, "timeout 5 bash -c 'exec 3<>/dev/tcp/\(address)/\(port)' 2>&1 && echo open")
    return out.stdout + out.stderr
}
