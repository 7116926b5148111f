import Foundation
import Testing

/// Issue 11's "Done when" on the el9 and el7 profiles (real systemd, real daemons under EL paths and units,
/// simulated dnf/yum/rpm and SELinux, a real firewalld on el9), proven from the hosts' own records.
@Suite(.serialized) struct ELFamilyTests {
    /// 1 (el9), 2 and 3.
    @Test func el9ConvergesThroughPHPFPMWithFirewalldAndSELinux() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1, profile: .el9) { cluster in
            let inventory = cluster.inventoryPath
            // SELinux disabled on web2: its boolean must stay untouched.
            try await cluster.run("web2", "/usr/libexec/cct-el/selinux-mode disabled")
            let first = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"])
            #expect(first.status == 2, "\(first.stdout)\n\(first.stderr)")
            for expected in ["[Rocky Linux 9.4 (Blue Onyx), el9]", "+ package php-fpm", "~ file /etc/php-fpm.d/www.conf",
                             "~ firewalld zone public", "+ selinux boolean httpd_can_network_memcache on"] {
                #expect(first.stdout.contains(expected), "plan output lacks \(expected)")
            }
            let apply = try await clusterctl(["apply", "-i", inventory, "--yes"])
            try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            for web in ["web1", "web2"] {
                try await cluster.run(web, "cat > /var/www/html/session.php <<'EOF'\n\(sessionPage)\nEOF")
            }
            try await expectSharedSession(cluster)
            #expect(try await cluster.run("web1", "getsebool httpd_can_network_memcache").contains("--> on"))
            // web2's SELinux is disabled: no boolean was set there (its persistent booleans and setsebool's log).
            #expect(try await cluster.run("web2", "cat /var/lib/cct-selinux/booleans /var/log/clusterctl-test/setsebool.log "
                                          + "2>/dev/null; true").isEmpty)
            #expect(try await cluster.run("web1", "grep '^php_value\\[session.save_handler\\]' /etc/php-fpm.d/www.conf")
                    == "php_value[session.save_handler] = memcache\n")

            expectSuccess(try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"]))
            let before = try await records(cluster)
            expectSuccess(try await clusterctl(["apply", "-i", inventory, "--yes"]))
            #expect(try await records(cluster) == before, "a converged apply changed something")
            let verify = try await clusterctl(["verify", "-i", inventory])
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            #expect(verify.stdout.contains("other1: cannot reach memcached on mc1"))

            // 2: after a firewalld reload and after a reboot, still so.
            try await cluster.run("mc1", "firewall-cmd --reload")
            let reloaded = try await clusterctl(["verify", "-i", inventory])
            #expect(reloaded.status == 0, "\(reloaded.stdout)")
            _ = try await cluster.reboot("mc1")
            let rebooted = try await clusterctl(["verify", "-i", inventory])
            #expect(rebooted.status == 0, "\(rebooted.stdout)")
            expectSuccess(try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"]))
        }
    }

    /// 1 (el7): mod_php with php.conf's php_value override.
    @Test func el7ConvergesThroughModPHPAndItsPHPConfOverride() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1, profile: .el7) { cluster in
            let inventory = cluster.inventoryPath
            let first = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"])
            #expect(first.status == 2, "\(first.stdout)\n\(first.stderr)")
            #expect(first.stdout.contains("~ file /etc/httpd/conf.d/php.conf"), "\(first.stdout)")
            let apply = try await clusterctl(["apply", "-i", inventory, "--yes"])
            try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            for web in ["web1", "web2"] {
                try await cluster.run(web, "cat > /var/www/html/session.php <<'EOF'\n\(sessionPage)\nEOF")
            }
            try await expectSharedSession(cluster)
            expectSuccess(try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"]))
            let before = try await records(cluster)
            expectSuccess(try await clusterctl(["apply", "-i", inventory, "--yes"]))
            #expect(try await records(cluster) == before, "a converged apply changed something")
            let verify = try await clusterctl(["verify", "-i", inventory])
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
        }
    }

    struct Records: Equatable {
        var packageCalls: String
        var units: String
        var inodes: String
    }

    private func records(_ cluster: TestCluster) async throws -> [String: Records] {
        var result: [String: Records] = [:]
        for host in ["mc1", "web1", "web2"] {
            let out = try await cluster.run(host, """
                cat /var/log/clusterctl-test/dnf.log /var/log/clusterctl-test/yum.log 2>/dev/null | grep -c install || true; \
                for u in memcached httpd php-fpm; do systemctl show -p InvocationID --value $u; done | tr '\\n' ' '; echo; \
                ls -i /etc/sysconfig/memcached /etc/php.ini /etc/php-fpm.d/www.conf /etc/httpd/conf.d/php.conf 2>/dev/null || true
                """).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            result[host] = Records(packageCalls: out[0], units: out[1], inodes: out.dropFirst(2).joined(separator: "\n"))
        }
        return result
    }
}
