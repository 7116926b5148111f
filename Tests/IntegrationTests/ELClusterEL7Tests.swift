import Foundation
import Testing

/// The el7 profile of the test cluster itself (not clusterctl): hosts that boot a real systemd and look like
/// CentOS 7 to everything clusterctl touches: EL7's yum (missing packages are skipped, "Error: Nothing to do"
/// when nothing is left), memcached listening everywhere, mod_php whose /etc/httpd/conf.d/php.conf overrides
/// php.ini, firewalld on iptables (its reload flushes plain rules), iptables-services restoring
/// /etc/sysconfig/iptables at boot once firewalld is off, the simulated SELinux.
@Suite("Test cluster: el7 hosts", .serialized, .timeLimit(.minutes(10)))
struct ELClusterEL7Tests {
    @Test("el7 hosts look like CentOS 7; yum, memcached, firewalld on iptables, then iptables-services across a reboot")
    func centos7FirewallAndReboot() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1, profile: .el7) { cluster in
            print("testcluster up, 2 el7 hosts, until every sshd answers: \(cluster.upDuration.formatted(.units(allowed: [.seconds, .milliseconds])))")
            let mc1 = try cluster.address("mc1")
            let known = try knownHostsKeys(cluster)
            for host in cluster.hosts {
                let lines = try await cluster.run(host.name, elIdentityProbe).split(separator: "\n").map(String.init)
                try #require(lines.count == 10, "\(host.name): \(lines)")
                #expect(lines[0] == "running" && lines[1] == "systemd", "\(host.name): \(lines)")
                #expect(lines[2] == "centos|rhel fedora|7|CentOS Linux 7 (Core)")
                #expect(lines[3] == "CentOS Linux release 7.9.2009 (Core)")
                #expect(lines[4] == "no-dnf /usr/bin/yum /usr/bin/rpm no-apt-get no-dpkg no-apt no-dpkg-query no-debian_version")
                #expect(lines[5] == "centos-release-7-9.2009.1.el7.centos.x86_64 firewalld-0.6.3-13.el7_9.noarch")
                #expect(lines[6] == "running public dhcpv6-client ssh")
                #expect(lines[7] == "Enforcing httpd_can_network_memcache --> off")
                #expect(lines[8] == "active active active")
                #expect(known[host.address] == lines[9])
            }

            // EL7's yum: what is missing is skipped; with nothing left, "Error: Nothing to do" and exit 1.
            let missing = try await cluster.ssh("mc1", "yum -y install php-pecl-memcached")
            #expect(missing.status == 1 && missing.stdout.contains("No package php-pecl-memcached available."), "\(missing.stdout)")
            #expect(missing.stderr.contains("Error: Nothing to do"))
            let install = try await cluster.ssh("mc1", "yum -y install memcached nosuchpackage")
            #expect(install.status == 0 && install.stdout.contains("No package nosuchpackage available."), "\(install.stdout)\(install.stderr)")
            #expect(install.stdout.contains("Installed:\n  memcached.x86_64 0:1.4.15-10.el7_3.1\n"))
            #expect(try await cluster.run("mc1", """
                rpm -q memcached; systemctl is-enabled memcached || true; grep OPTIONS /etc/sysconfig/memcached
                systemctl start memcached && sleep 1 && \(listening(11211))
                """) == "memcached-1.4.15-10.el7_3.1.x86_64\ndisabled\nOPTIONS=\"\"\n*:11211\n", "EL7's memcached listens everywhere")

            // firewalld drives iptables here: a plain rule ahead of its chains opens the port, and a reload
            // flushes it. (This firewalld, 1.3, rejects with port-unreachable: "Connection refused".)
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211).contains("Connection refused"))
            #expect(try await cluster.run("mc1", "iptables -S INPUT | grep -c INPUT_ZONES") == "1\n", "firewalld's chains are iptables chains")
            try await cluster.run("mc1", "iptables -I INPUT 1 -p tcp --dport 11211 -j ACCEPT")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211) == "open\n")
            try await cluster.run("mc1", "firewall-cmd -q --reload")
            #expect(try await cluster.run("mc1", "iptables -S INPUT | grep -c 11211 || true") == "0\n")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211).contains("Connection refused"))

            // Without firewalld: the iptables path, saved by iptables-services and restored at boot.
            let saved = try await cluster.run("mc1", """
                systemctl disable -q firewalld && systemctl stop firewalld && iptables -S | wc -l
                yum -y -q install iptables-services
                iptables -A INPUT -p tcp -s \(try cluster.address("web1")) --dport 11211 -j ACCEPT
                service iptables save && systemctl enable -q iptables memcached
                grep -c -- '--dport 11211 -j ACCEPT' /etc/sysconfig/iptables
                tail -n 1 /var/log/clusterctl-test/service.log | cut -d' ' -f2-
                """)
            #expect(saved == "3\niptables: Saving firewall rules to /etc/sysconfig/iptables: [  OK  ]\n1\nuid=0 service iptables save => 0\n",
                    "\(saved)")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211) == "open\n")
            try await cluster.reboot("mc1")
            #expect(try await cluster.run("mc1", """
                systemctl is-system-running --wait; systemctl is-active iptables memcached; systemctl is-active firewalld || true
                iptables -S INPUT | grep -c 11211
                """) == "running\nactive\nactive\ninactive\n1\n")
            #expect(try await tcpProbe(cluster, from: "web1", to: mc1, port: 11211) == "open\n")
        }
    }

    @Test("mod_php reads php.ini, but php.conf's php_value lines win; SELinux keeps httpd off memcached until setsebool -P")
    func modPHPOverrideAndSELinux() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1, profile: .el7) { cluster in
            let mc1 = try cluster.address("mc1"), web1 = try cluster.address("web1")
            try await cluster.run("mc1", """
                yum -y -q install memcached && systemctl enable -q memcached && systemctl start memcached
                firewall-cmd -q --permanent --add-port=11211/tcp && firewall-cmd -q --reload
                """)
            let install = try await cluster.ssh("web1", "yum -y install php php-pecl-memcache")
            #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
            #expect(install.stdout.contains("Dependency Installed:\n  httpd.x86_64 0:2.4.6-99.el7.centos.1\n"), "\(install.stdout)")
            try await cluster.run("web1", """
                cat > /var/www/html/info.php <<'EOF'\n\(infoPage)\nEOF
                cat > /var/www/html/mc.php <<'EOF'\n\(memcachePage(mc1))\nEOF
                systemctl enable -q httpd && systemctl start httpd && firewall-cmd -q --permanent --add-service=http && firewall-cmd -q --reload
                """)
            #expect(try await cluster.run("web1", "systemctl is-active httpd; systemctl is-active php-fpm || true; ps -o user= -C httpd | sort -u")
                    == "active\ninactive\napache\nroot\n", "PHP runs inside httpd (prefork), no php-fpm")

            let session = "el7files\(UInt32.random(in: 1000...9999))"
            #expect(try await http(web1, "/info.php", sessionID: session) == "apache2handler files /var/lib/php/session 1")
            #expect(try await http(web1, "/info.php", sessionID: session) == "apache2handler files /var/lib/php/session 2")

            // The trap: php.ini says memcache, php.conf still says files, and wins (the CLI follows php.ini).
            try await cluster.run("web1", """
                sed -i 's|^session.save_handler = files|session.save_handler = memcache|; s|^;session.save_path = "/tmp"|session.save_path = "tcp://\(mc1):11211"|' /etc/php.ini
                systemctl restart httpd
                """)
            #expect(try await http(web1, "/info.php", sessionID: session) == "apache2handler files /var/lib/php/session 3")
            #expect(try await cluster.run("web1", "php -r 'echo ini_get(\"session.save_handler\");'") == "memcache")
            try await cluster.run("web1", """
                sed -i 's|^php_value session.save_handler "files"|php_value session.save_handler "memcache"|; s|^php_value session.save_path .*|php_value session.save_path "tcp://\(mc1):11211"|' /etc/httpd/conf.d/php.conf
                systemctl restart httpd
                """)
            #expect(try await http(web1, "/info.php?ini", sessionID: "none") == "apache2handler memcache tcp://\(mc1):11211")

            // SELinux: httpd (user apache) may not connect to memcache_port_t until the boolean is on.
            #expect(try await http(web1, "/mc.php", sessionID: "none").hasPrefix("failed"))
            #expect(try await cluster.run("web1", "php -r \"\(memcacheProbe(mc1))\"") == "connected")
            try await cluster.run("web1", "setsebool -P httpd_can_network_memcache on")
            #expect(try await http(web1, "/mc.php", sessionID: "none") == "connected")
            let shared = "el7mc\(UInt32.random(in: 1000...9999))"
            #expect(try await http(web1, "/info.php", sessionID: shared) == "apache2handler memcache tcp://\(mc1):11211 1")
            #expect(try await http(web1, "/info.php", sessionID: shared) == "apache2handler memcache tcp://\(mc1):11211 2")
            try await cluster.reboot("web1")
            #expect(try await cluster.run("web1", "getsebool httpd_can_network_memcache; systemctl is-active httpd")
                    == "httpd_can_network_memcache --> on\nactive\n")
            #expect(try await http(web1, "/info.php", sessionID: shared) == "apache2handler memcache tcp://\(mc1):11211 3",
                    "the session lives on mc1, which did not reboot")
        }
    }
}
