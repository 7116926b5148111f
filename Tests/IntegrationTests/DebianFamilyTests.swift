import Foundation
import Testing

/// Issue 10's "Done when" on real Debian 12 hosts (the debian12 profile: debootstrap'd Debian booted with its
/// own systemd under systemd-nspawn, real apt and dpkg from the cluster's private mirror, real Apache with
/// mod_php, memcached, iptables-nft and netfilter-persistent). Everything is proven from the hosts' own
/// records: /var/log/dpkg.log, systemd's InvocationID of each unit (a new one on every start or restart),
/// inodes of the managed files, the listening sockets, iptables-save.
@Suite(.serialized) struct DebianFamilyTests {
    static let managedFiles = "/etc/memcached.conf /etc/php/8.2/apache2/php.ini /etc/php/8.2/cli/php.ini /etc/iptables/rules.v4"

    /// 1, 2 and 3 on one cluster (each Debian cluster costs real package installs).
    @Test func debianClusterConvergesSharesSessionsSurvivesRebootAndRestartsOnlyWhatChanged() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1, profile: .debian12) { cluster in
            let inventory = cluster.inventoryPath
            let first = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"])
            #expect(first.status == 2, "\(first.stdout)\n\(first.stderr)")
            for expected in ["~ mc1 (memcache) [Debian GNU/Linux 12 (bookworm), debian12]", "+ package memcached",
                             "+ package libapache2-mod-php8.2", "+ package php8.2-memcache", "+ package iptables-persistent",
                             "~ file /etc/memcached.conf", "~ file /etc/php/8.2/apache2/php.ini",
                             "~ file /etc/php/8.2/cli/php.ini", "+ enable apache2 at boot", "> start memcached (not running)"] {
                #expect(first.stdout.contains(expected), "plan output lacks \(expected)")
            }
            #expect(!first.stdout.contains("other1"), "the role-less host is not planned")

            let apply = try await clusterctl(["apply", "-i", inventory, "--yes"])
            try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            #expect(apply.stdout.contains("Apply: 0 ok, 3 changed, 0 failed."))

            // A session made over HTTP on web1 (real Apache, mod_php) is read on web2.
            for web in ["web1", "web2"] {
                try await cluster.run(web, "cat > /var/www/html/session.php <<'EOF'\n\(sessionPage)\nEOF")
            }
            try await expectSharedSession(cluster)

            // memcached listens on the private address only (Debian's default -l 127.0.0.1 is gone).
            let listening = try await cluster.run("mc1", "ss -Hltn 'sport = :11211' | awk '{print $4}'")
            #expect(listening == "\(try cluster.address("mc1")):11211\n")

            // Converged: plan 0; a second apply runs no dpkg, restarts nothing, rewrites nothing.
            let second = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"])
            #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
            let before = try await records(cluster)
            expectSuccess(try await clusterctl(["apply", "-i", inventory, "--yes"]))
            #expect(try await records(cluster) == before, "a converged apply changed something")

            let verify = try await clusterctl(["verify", "-i", inventory])
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            #expect(verify.stdout.contains("other1: cannot reach memcached on mc1"), "\(verify.stdout)")

            // 3: a cacheSizeMB change restarts memcached only.
            let changed = try inventoryWith(cluster, cacheSizeMB: 96)
            let plan = try await clusterctl(["plan", "-i", changed])
            #expect(plan.stdout.contains("Plan: 1 of 3 hosts change; 0 packages, 1 files, 1 services, 0 firewall chains."),
                    "\(plan.stdout)")
            #expect(plan.stdout.contains("↻ restart memcached (config changed: /etc/memcached.conf)"))
            expectSuccess(try await clusterctl(["apply", "-i", changed, "--yes"]))
            let afterChange = try await records(cluster)
            #expect(afterChange["mc1"]!.memcached != before["mc1"]!.memcached, "memcached was not restarted")
            #expect(afterChange["mc1"]!.dpkgLines == before["mc1"]!.dpkgLines)
            for web in ["web1", "web2"] { #expect(afterChange[web] == before[web], "\(web) was touched") }
            #expect(try await cluster.run("mc1", "tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value memcached)/cmdline")
                    .contains("-m 96"))

            // 2: after a real reboot of the memcache host and a web host, everything is back by itself.
            try await cluster.reboot("mc1")
            try await cluster.reboot("web1")
            for host in ["mc1", "web1"] {
                let save = try await cluster.run(host, "iptables-save")
                #expect(save.contains("-A INPUT -j CLUSTERCTL"), "\(host): the firewall did not come back: \(save)")
            }
            #expect(try await cluster.run("mc1", "systemctl is-active memcached") == "active\n")
            #expect(try await cluster.run("web1", "systemctl is-active apache2") == "active\n")
            let afterReboot = try await clusterctl(["verify", "-i", changed])
            #expect(afterReboot.status == 0, "\(afterReboot.stdout)\n\(afterReboot.stderr)")
            try await expectSharedSession(cluster)
            expectSuccess(try await clusterctl(["plan", "-i", changed, "--detailed-exitcode"]))

            // An active ufw owns the host's iptables: plan refuses that host's firewall with what to do.
            let ufw = try await cluster.exec("web2", "apt-get install -y -q ufw >/dev/null 2>&1 && ufw allow 22/tcp >/dev/null "
                                             + "&& ufw --force enable")
            try #require(ufw.status == 0, "\(ufw.stdout)\(ufw.stderr)")
            let refused = try await clusterctl(["plan", "-i", changed])
            #expect(refused.status == 1)
            #expect(refused.stdout.contains("! web2: cannot plan: ufw is active on this host"), "\(refused.stdout)")
            #expect(refused.stdout.contains("`ufw disable`"))
            #expect(refused.stdout.contains("  web1 [Debian GNU/Linux 12 (bookworm), debian12]: no changes"))
        }
    }

    /// Web hosts whose Apache already hands PHP to php-fpm keep doing so: the extension goes to that PHP,
    /// the session lines to FPM's php.ini, and mod_php is never installed (it would take PHP over).
    @Test func debianHostsServingPHPThroughFPMKeepIt() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, profile: .debian12) { cluster in
            for web in ["web1", "web2"] {
                let setup = try await cluster.exec(web, "apt-get update -q >/dev/null && apt-get install -y -q apache2 php8.2-fpm "
                    + ">/dev/null 2>&1 && a2enmod -q proxy_fcgi setenvif && a2enconf -q php8.2-fpm && systemctl restart apache2")
                try #require(setup.status == 0, "\(setup.stdout)\(setup.stderr)")
            }
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath])
            #expect(plan.stdout.contains("~ web1 (web) [Debian GNU/Linux 12 (bookworm), debian12+fpm]"), "\(plan.stdout)")
            #expect(plan.stdout.contains("~ file /etc/php/8.2/fpm/php.ini") && !plan.stdout.contains("libapache2-mod-php"))
            let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            for web in ["web1", "web2"] {
                try await cluster.run(web, "cat > /var/www/html/session.php <<'EOF'\n\(sessionPage)\nEOF")
                #expect(try await cluster.run(web, "dpkg-query -W -f='${db:Status-Status}' libapache2-mod-php8.2 2>/dev/null; true")
                        != "installed")
            }
            try await expectSharedSession(cluster)
            let verify = try await clusterctl(["verify", "-i", cluster.inventoryPath])
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            expectSuccess(try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"]))
        }
    }

    /// 4: EL5 memcache host, Debian 12 web hosts.
    @Test func mixedClusterConvergesAndSharesSessions() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, profile: .el5, webProfile: .debian12) { cluster in
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath])
            #expect(plan.stdout.contains("~ mc1 (memcache) [CentOS release 5.5 (Final), el5]"), "\(plan.stdout)")
            #expect(plan.stdout.contains("~ web1 (web) [Debian GNU/Linux 12 (bookworm), debian12]"))
            let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            for web in ["web1", "web2"] {
                try await cluster.run(web, "cat > /var/www/html/session.php <<'EOF'\n\(sessionPage)\nEOF")
            }
            try await expectSharedSession(cluster)
            let verify = try await clusterctl(["verify", "-i", cluster.inventoryPath])
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            expectSuccess(try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"]))
        }
    }

    /// 5: a host whose os-release names an OS no family supports is refused at plan, and nothing runs on it
    /// (its package database, files and firewall are as before); the other hosts are applied.
    @Test func unsupportedOSIsRefusedAndLeftUntouched() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            try await cluster.run("web2", """
                printf 'NAME=Gentoo\\nID=gentoo\\nPRETTY_NAME="Gentoo Linux"\\n' > /etc/os-release && rm -f /etc/redhat-release
                """)
            let untouched = "cat /var/lib/rpm/cct-installed; ls -la /etc/php.ini /etc/sysconfig 2>&1; iptables-save | grep -v '^#'; true"
            let before = try await cluster.run("web2", untouched)
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath])
            #expect(plan.status == 1)
            #expect(plan.stdout.contains("! web2: cannot plan: web2: Gentoo Linux: not a supported OS (supported: EL 5 (el5), "),
                    "\(plan.stdout)")
            #expect(plan.stdout.contains("Debian 12 (debian12), Ubuntu 22.04 (ubuntu22.04), Ubuntu 24.04 (ubuntu24.04)); "
                                         + "nothing was run on it"))
            let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            #expect(apply.status == 1)
            #expect(apply.stdout.contains("Apply: 0 ok, 2 changed, 1 failed."), "\(apply.stdout)")
            #expect(try await cluster.run("web2", untouched) == before, "something ran on the unsupported host")
            #expect(try await cluster.run("web2", "cat /var/log/clusterctl-test/*.log 2>/dev/null || true").isEmpty,
                    "web2 ran a package or service command")
        }
    }

    // MARK: helpers

    struct Records: Equatable {
        var dpkgLines: String
        /// `InvocationID` of memcached and apache2: systemd gives a unit a new one on every (re)start.
        var memcached: String
        var apache: String
        var inodes: String
    }

    private func records(_ cluster: TestCluster) async throws -> [String: Records] {
        var result: [String: Records] = [:]
        for host in ["mc1", "web1", "web2"] {
            let out = try await cluster.run(host, """
                wc -l < /var/log/dpkg.log; systemctl show -p InvocationID --value memcached; \
                systemctl show -p InvocationID --value apache2; ls -i \(Self.managedFiles) 2>/dev/null || true
                """).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            result[host] = Records(dpkgLines: out[0], memcached: out[1], apache: out[2], inodes: out.dropFirst(3).joined(separator: "\n"))
        }
        return result
    }
}
