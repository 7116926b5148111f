import Foundation
import Testing

/// The debian12 profile of the test cluster: real Debian 12 hosts (systemd as PID 1 under systemd-nspawn),
/// real apt and dpkg installing from the cluster's private mirror, real reboots. Over real SSH.
/// The first run on a machine builds the base root and mirror (a few minutes): hence the longer limit.
@Suite("Test cluster: debian12 hosts", .serialized, .timeLimit(.minutes(10)))
struct DebianClusterTests {
    @Test("debian12 hosts boot Debian 12 with systemd as PID 1, sshd, their own identity and only the bridge")
    func hostsBootRealDebian() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1, profile: .debian12) { cluster in
            print("testcluster up, 4 debian12 hosts, until every sshd answers: \(cluster.upDuration.formatted(.units(allowed: [.seconds, .milliseconds])))")
            #expect(cluster.hosts.map(\.name) == ["mc1", "web1", "web2", "other1"])
            #expect(cluster.hosts.allSatisfy { $0.profile == .debian12 })
            let known = try knownHostsKeys(cluster)
            var machineIDs: Set<String> = [], keys: Set<String> = []
            for host in cluster.hosts {
                let out = try await cluster.run(host.name, """
                    systemctl is-system-running --wait
                    ps -o comm= -p 1
                    . /etc/os-release; echo "$ID $VERSION_ID"
                    hostname
                    systemctl is-active ssh systemd-journald systemd-networkd | tr '\\n' ' '; echo
                    ip -4 route | grep -c . ; ip -4 route | grep -c default
                    ls /var/lib/apt/lists | grep -v -x -e lock -e partial | wc -l
                    cat /etc/apt/sources.list
                    ls /etc/ssh | grep -c '^ssh_host_'
                    cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub
                    cat /etc/machine-id
                    """)
                let lines = out.split(separator: "\n").map(String.init)
                try #require(lines.count == 12, "\(host.name): \(out)")
                #expect(lines[0] == "running", "\(host.name): systemctl is-system-running: \(lines[0])")
                #expect(lines[1] == "systemd")
                #expect(lines[2] == "debian 12")
                #expect(lines[3] == host.name)
                #expect(lines[4] == "active active active ")
                #expect(lines[5] == "1" && lines[6] == "0", "\(host.name): only the bridge's on-link route, no default route")
                #expect(lines[7] == "0", "\(host.name): apt lists must be empty until the tool runs apt-get update")
                #expect(lines[8] == "deb [trusted=yes] http://198.18.0.2:80/ ./")
                #expect(lines[9] == "2", "\(host.name): only the ed25519 host key pair")
                #expect(known[host.address] == lines[10], "\(host.name)'s key is not the one in known_hosts")
                keys.insert(lines[10])
                machineIDs.insert(lines[11])

                let deploy = try await cluster.ssh(host.name, "id -un; sudo -n id -u", user: "deploy")
                #expect(deploy.status == 0, "\(host.name): \(deploy.stderr)")
                #expect(deploy.stdout == "deploy\n0\n")
            }
            #expect(keys.count == 4 && machineIDs.count == 4, "each host has its own host key and machine-id")

            // Nothing but the bridge: the machine's other networks are unreachable from a host.
            let out = try await cluster.ssh("web1", "ip route get 203.0.113.1")
            #expect(out.status != 0 && out.stderr.contains("unreachable"), "\(out.stdout)\(out.stderr)")

            // `exec` (nsenter, no SSH) reaches the same host, and can make it claim another OS for a test.
            let exec = try await cluster.exec("other1", "hostname; sed -i 's/^ID=debian$/ID=gentoo/' /etc/os-release")
            #expect(exec.stdout == "other1\n", "\(exec.stdout)\(exec.stderr)")
            #expect(try await cluster.run("other1", ". /etc/os-release; echo $ID") == "gentoo\n")
            #expect(try await cluster.run("web1", ". /etc/os-release; echo $ID") == "debian\n")
        }
    }

    @Test("apt installs memcached from the mirror; it runs under systemd; a reboot keeps it and forgets the rest")
    func aptInstallAndReboot() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1, profile: .debian12) { cluster in
            let install = try await cluster.ssh("mc1", "apt-get update && apt-get install -y memcached")
            #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
            #expect(install.stdout.contains("Setting up memcached"), "\(install.stdout)")
            let before = try await cluster.run("mc1", """
                dpkg-query -W -f='${Status}\\n' memcached
                systemctl is-active memcached; systemctl is-enabled memcached
                systemctl show -p ControlGroup --value memcached
                iptables -A INPUT -p tcp --dport 9999 -j DROP; iptables -S INPUT | grep -c 9999
                touch /run/cct-runtime-marker /var/tmp/cct-disk-marker
                """)
            #expect(before == "install ok installed\nactive\nenabled\n/system.slice/memcached.service\n1\n", "\(before)")
            // The package went to mc1's disk only.
            #expect(try await cluster.ssh("web1", "dpkg-query -W -f='${Status}' memcached").status != 0)

            let took = try await cluster.reboot("mc1")
            print("testcluster reboot of a debian12 host (power off, boot, sshd answers): \(took.formatted(.units(allowed: [.seconds, .milliseconds])))")
            let after = try await cluster.run("mc1", """
                systemctl is-system-running --wait
                dpkg-query -W -f='${Status}\\n' memcached
                systemctl is-active memcached
                iptables -S INPUT | grep -c 9999 || true
                test -e /run/cct-runtime-marker && echo runtime-kept || echo runtime-gone
                test -e /var/tmp/cct-disk-marker && echo disk-kept || echo disk-gone
                journalctl --list-boots --no-pager | tail -n +2 | wc -l
                """)
            #expect(after == "running\ninstall ok installed\nactive\n0\nruntime-gone\ndisk-kept\n2\n", "\(after)")
            // The rebooted host still has its identity: same host key (strict known_hosts) and the deploy login.
            expectSuccess(try await cluster.ssh("mc1", "sudo -n true", user: "deploy"))
            #expect(try await cluster.run("web1", "systemctl is-system-running") == "running\n", "web1 is untouched")
        }
    }

    @Test("the mirror has what the tool installs: apache2 with PHP and memcache, php-fpm, ufw")
    func mirrorServesTheWebStack() async throws {
        try await TestCluster.withCluster(memcache: 0, web: 2, other: 1, profile: .debian12) { cluster in
            async let web1 = cluster.ssh("web1", """
                set -e
                apt-get update -q
                apt-get install -y apache2 libapache2-mod-php php-memcache php-memcached curl
                echo '<?php echo gethostname(), " ", PHP_VERSION, " ", extension_loaded("memcache") ? "memcache" : "-";' > /var/www/html/who.php
                """)
            async let web2 = cluster.ssh("web2", "apt-get update -q && apt-get install -y php-fpm")
            async let other1 = cluster.ssh("other1", "apt-get update -q && apt-get install -y ufw && ufw allow 22/tcp && ufw --force enable")
            let (w1, w2, o1) = try await (web1, web2, other1)
            #expect(w1.status == 0, "\(w1.stdout)\(w1.stderr)")
            #expect(w2.status == 0, "\(w2.stdout)\(w2.stderr)")
            #expect(o1.status == 0, "\(o1.stdout)\(o1.stderr)")

            #expect(try await cluster.run("web1", "systemctl is-active apache2") == "active\n")
            let page = try await runProcess("/usr/bin/curl", ["-sS", "-m", "5", "http://\(try cluster.address("web1"))/who.php"])
            #expect(page.stdout.hasPrefix("web1 8.2.") && page.stdout.hasSuffix(" memcache"), "\(page.stdout)\(page.stderr)")
            #expect(try await cluster.run("web2", "systemctl is-active php8.2-fpm") == "active\n")
            let ufw = try await cluster.run("other1", "ufw status | head -n 1; iptables -S | grep -c ufw-")
            #expect(ufw.hasPrefix("Status: active\n"), "\(ufw)")
            #expect(try await cluster.ssh("other1", "true").status == 0, "ufw allows SSH")
        }
    }

    @Test("mixed cluster: an el5 memcache host next to debian12 web hosts; el5 hosts cannot reboot")
    func mixedCluster() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, profile: .el5, webProfile: .debian12) { cluster in
            #expect(cluster.hosts.map(\.profile) == [.el5, .debian12, .debian12])
            #expect(try await cluster.run("mc1", "cat /etc/redhat-release; rpm -q bash") == "CentOS release 5.5 (Final)\nbash-3.2-24.el5\n")
            for web in ["web1", "web2"] {
                #expect(try await cluster.run(web, ". /etc/os-release; echo $ID $VERSION_ID; ps -o comm= -p 1") == "debian 12\nsystemd\n")
            }
            // The hosts reach each other on the bridge, whatever their profile.
            let mc1 = try cluster.address("mc1")
            expectSuccess(try await cluster.ssh("web1", "timeout 3 bash -c 'exec 3<>/dev/tcp/\(mc1)/22'"))
            let inventory = try String(contentsOfFile: cluster.inventoryPath, encoding: .utf8)
            #expect(inventory.contains("\"web2\": { \"roles\": [\"web\"], \"address\": \"198.18.0.13\""))
            await #expect(throws: TestClusterError.self) { try await cluster.reboot("mc1") }
        }
    }

    @Test("down leaves nothing behind after a crash: nspawn and the mirror killed, STATE intact")
    func downAfterCrash() async throws {
        let cluster = try await TestCluster.up(memcache: 1, web: 1, profile: .debian12)
        do {
            _ = try await cluster.run("web1", "apt-get update -q >/dev/null && apt-get install -y -q memcached >/dev/null")
            let pids = try ["mc1", "web1"].map { name in
                try String(contentsOfFile: "\(cluster.stateDirectory)/hosts/\(name)/launcher.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let mirror = try String(contentsOfFile: "\(cluster.stateDirectory)/mirror.pid", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let kill = try await runProcess("/bin/kill", ["-KILL", mirror] + pids)
            #expect(kill.status == 0, "\(kill.stderr)")
            #expect(try await cctNamespaces().count == 3, "the crash leaves the hosts' namespaces and the switch for down to find")
        } catch {
            try? await cluster.down()
            throw error
        }
        try await cluster.down()
    }
}
