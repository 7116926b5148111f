import Foundation
import Testing

/// The seed's manual procedure, by hand over SSH (no clusterctl), on a fresh EL5 cluster: proves the
/// cluster can host what clusterctl automates — sessions shared through memcached, memcached closed
/// to everyone but the web hosts.
@Suite("Test cluster: the seed's steps by hand", .serialized, .timeLimit(.minutes(5)))
struct TestClusterSeedTests {
    static let epelURL = "http://download.fedoraproject.org/pub/epel/5/i386/epel-release-5-4.noarch.rpm"

    @Test("a PHP session written on web1 is read on web2 through memcached; other1 cannot reach memcached")
    func seedStepsByHandShareSessions() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1) { cluster in
            let mc1 = try cluster.address("mc1")
            let webs = cluster.hosts(withRole: "web")
            let acceptWebs = webs.map { "iptables -A INPUT -p tcp -s \($0.address) --dport 11211 -j ACCEPT" }
                .joined(separator: "\n")
            let memcache = try await cluster.ssh("mc1", """
                set -e
                rpm -Uvh \(Self.epelURL)
                yum -y install memcached
                cat > /etc/sysconfig/memcached <<'EOF'
                PORT="11211"
                USER="memcached"
                MAXCONN="1024"
                CACHESIZE="64"
                OPTIONS=""
                EOF
                chkconfig memcached on
                service memcached start
                \(acceptWebs)
                iptables -A INPUT -p tcp --dport 11211 -j DROP
                service iptables save
                """)
            try #require(memcache.status == 0, "mc1: \(memcache.stdout)\(memcache.stderr)")

            for web in webs {
                let out = try await cluster.ssh(web.name, """
                    set -e
                    rpm -Uvh \(Self.epelURL)
                    yum -y install httpd php php-pecl-memcache
                    sed -i -e 's|^session.save_handler = files|session.save_handler = memcache|' \\
                           -e 's|^session.save_path = .*|session.save_path = "tcp://\(mc1):11211"|' /etc/php.ini
                    cat > /var/www/html/session.php <<'EOF'
                    <?php
                    session_start();
                    if (isset($_GET['set'])) { $_SESSION['value'] = $_GET['set']; }
                    header('Content-Type: text/plain');
                    echo 'host=', gethostname(), ' id=', session_id(), ' value=', $_SESSION['value'] ?? '(none)', "\\n";
                    EOF
                    chkconfig httpd on
                    service httpd restart
                    """)
                try #require(out.status == 0, "\(web.name): \(out.stdout)\(out.stderr)")
            }

            // The seed's steps really ran through the EL5 tools (logged by the shims on each host).
            let logs = try await cluster.ssh("mc1", "cat /var/log/clusterctl-test/chkconfig.log /var/log/clusterctl-test/service.log")
            #expect(logs.stdout.contains("chkconfig memcached on => 0"))
            #expect(logs.stdout.contains("service iptables save => 0"))
            let saved = try await cluster.ssh("mc1", "cat /etc/sysconfig/iptables")
            #expect(saved.stdout.contains("-A INPUT -p tcp -m tcp --dport 11211 -j DROP"), "\(saved.stdout)")

            // A session created over HTTP on web1 ...
            let value = "seed-\(UInt32.random(in: 1...UInt32.max))"
            let web1 = try cluster.address("web1"), web2 = try cluster.address("web2")
            let first = try await runProcess("/usr/bin/curl", ["-sS", "-i", "--max-time", "5", "http://\(web1)/session.php?set=\(value)"])
            try #require(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("host=web1 "))
            #expect(first.stdout.contains("value=\(value)"))
            let sessionID = try #require(first.stdout.split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("set-cookie: phpsessid=") }
                .map { $0.dropFirst("set-cookie: phpsessid=".count).prefix { $0 != ";" } }
                .map(String.init), "web1 sent no session cookie: \(first.stdout)")

            // ... is read, with its value, over HTTP on web2 (same session id sent explicitly).
            let second = try await runProcess("/usr/bin/curl", ["-sS", "--max-time", "5", "-H", "Cookie: PHPSESSID=\(sessionID)",
                                                                 "http://\(web2)/session.php"])
            #expect(second.stdout == "host=web2 id=\(sessionID) value=\(value)\n", "\(second.stdout)\(second.stderr)")

            // The session lives in memcached (not in web1's files), readable from a web host ...
            let stored = try await cluster.ssh("web1", "printf 'get %s\\r\\nquit\\r\\n' '\(sessionID)' | nc -q 1 -w 2 \(mc1) 11211")
            #expect(stored.stdout.contains("value|s:\(value.count):\"\(value)\""), "\(stored.stdout)\(stored.stderr)")
            let files = try await cluster.ssh("web1", "ls -A /var/lib/php/session | wc -l")
            #expect(files.stdout == "0\n", "no session files on web1")

            // ... and memcached is unreachable from the other host.
            let fromOther = try await cluster.ssh("other1", "nc -z -w 2 \(mc1) 11211")
            #expect(fromOther.status != 0, "other1 must not reach memcached")
            let fromWeb = try await cluster.ssh("web2", "nc -z -w 2 \(mc1) 11211")
            #expect(fromWeb.status == 0, "web2 must reach memcached (the probe can succeed)")
        }
    }
}
