import Foundation
import Testing

/// The test cluster's side of issue 12 (Tests/Cluster/lib/reach.bash), checked on its own before clusterctl is
/// involved: the bastion and the private bridge, the sudo users on every host, and `down` after a crash.
@Suite("Test cluster: bastion, private bridge, sudo users", .serialized, .timeLimit(.minutes(5)))
struct TestClusterReachTests {
    @Test("private hosts live behind the bastion; the test helpers reach them through it")
    func bastionAndPrivateBridge() async throws {
        let reach = TestCluster.Reach(privateRoles: ["web"], hostKeyTypes: ["ed25519", "ecdsa"])
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1, reach: reach) { cluster in
            let byName = Dictionary(uniqueKeysWithValues: cluster.hosts.map { ($0.name, $0) })
            #expect(byName["mc1"]?.address == "198.18.0.11" && byName["other1"]?.address == "198.18.0.14")
            #expect(byName["web1"]?.address == "198.18.1.12" && byName["web2"]?.address == "198.18.1.13")
            #expect(byName[TestCluster.bastionName] == TestCluster.Host(name: "bastion1", address: TestCluster.bastionAddress,
                                                                       roles: ["bastion"], profile: .plain))
            #expect(Set(cluster.members.map(\.name)) == ["mc1", "web1", "web2", "other1"])

            // The bastion has both legs and does not route between them; public hosts cannot reach private ones.
            let legs = try await cluster.exec(TestCluster.bastionName, "ip -o -4 addr show | awk '{print $2, $4}'")
            #expect(legs.stdout.contains("eth0 198.18.0.10/24") && legs.stdout.contains("eth1 198.18.1.10/24"), "\(legs.stdout)")
            #expect(try await cluster.exec(TestCluster.bastionName, "cat /proc/sys/net/ipv4/ip_forward").stdout == "0\n")
            #expect(try await cluster.exec("other1", "nc -z -w 2 198.18.1.12 22").status != 0)
            let route = try await runProcess("/usr/sbin/ip", ["route", "show", TestCluster.privateNetwork])
            #expect(route.stdout.hasPrefix("unreachable 198.18.1.0/24"), "\(route.stdout)")
            let bridge = try await runProcess("/usr/sbin/ip", ["-n", "cct-switch", "-o", "link", "show", "master", "cctbr1"])
            #expect(bridge.stdout.contains("p-web1@") && bridge.stdout.contains("p-web2@") && bridge.stdout.contains("q-bastion1@"),
                    "\(bridge.stdout)")

            // Inventory: the bastion is no member; private hosts jump through it. ssh_config says the same.
            let inventory = try String(contentsOfFile: cluster.inventoryPath, encoding: .utf8)
            #expect(!inventory.contains("bastion1"))
            #expect(inventory.contains("\"web1\": { \"roles\": [\"web\"], \"address\": \"198.18.1.12\", \"privateAddress\": \"198.18.1.12\", \"ssh\": { \"jumpHost\": \"198.18.0.10\" } }"))
            #expect(inventory.contains("\"mc1\": { \"roles\": [\"memcache\"], \"address\": \"198.18.0.11\", \"privateAddress\": \"198.18.0.11\" }"))

            // Every way the tests log in reaches a private host: the Swift helper, `testcluster ssh`, ssh -F.
            #expect(try await cluster.ssh("web2", "hostname").stdout == "web2\n")
            let script = try await TestCluster.runScript(["ssh", "--state", cluster.stateDirectory, "web1", "hostname"])
            #expect(script.stdout == "web1\n", "\(script.stderr)")
            let config = try await runProcess("/usr/bin/ssh", ["-F", cluster.stateDirectory + "/ssh_config", "web1", "hostname"])
            #expect(config.stdout == "web1\n", "\(config.stderr)")
            let secure = try await cluster.hostFile("web1", "/var/log/secure")
            #expect(secure.contains("Accepted publickey for root from 198.18.1.10 "), "web1 logins come from the bastion")
        }
    }

    @Test("every host has deploy, deploypw and nosudo with the cluster key; sudo logs to /var/log/sudo.log")
    func sudoUsers() async throws {
        let password = TestCluster.becomePassword
        try await TestCluster.withCluster(memcache: 1, web: 1, reach: .init(privateRoles: ["web"])) { cluster in
            for host in cluster.hosts {
                let deploy = try await cluster.ssh(host.name, "sudo -n id -u", user: "deploy")
                #expect(deploy.stdout == "0\n", "\(host.name): \(deploy.stderr)")
                let noPassword = try await cluster.ssh(host.name, "sudo -n id -u", user: "deploypw")
                #expect(noPassword.status != 0 && noPassword.stderr.contains("a password is required"), "\(host.name): \(noPassword.stderr)")
                let withPassword = try await cluster.ssh(host.name, "sudo -S -k -p '' id -u", user: "deploypw", stdin: password + "\n")
                #expect(withPassword.stdout == "0\n", "\(host.name): \(withPassword.stderr)")
                let wrong = try await cluster.ssh(host.name, "sudo -S -k -p '' id -u", user: "deploypw", stdin: "wrong\n")
                #expect(wrong.status != 0 && wrong.stderr.contains("incorrect password"), "\(host.name): \(wrong.stderr)")
                let nosudo = try await cluster.ssh(host.name, "sudo -S -k -p '' id -u", user: "nosudo", stdin: password + "\n")
                #expect(nosudo.status != 0 && nosudo.stderr.contains("nosudo is not in the sudoers file"), "\(host.name): \(nosudo.stderr)")

                let log = try await cluster.hostFile(host.name, "/var/log/sudo.log")
                for line in ["deploy : PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/id -u",
                             "deploypw : a password is required ;", "deploypw : PWD=/home/deploypw ; USER=root ; COMMAND=/usr/bin/id -u",
                             "deploypw : 1 incorrect password attempt ;", "nosudo : user NOT in sudoers ;"] {
                    #expect(log.contains(line), "\(host.name): sudo.log lacks \(line):\n\(log)")
                }
                // Only the hash is on the host's disk; the password itself nowhere in STATE.
                let shadow = try await cluster.exec(host.name, "grep -c '^deploypw:\\$6\\$' /etc/shadow")
                #expect(shadow.stdout == "1\n")
            }
            let grep = try await runProcess("/usr/bin/grep", ["-r", "-a", "-l", "-F", "-D", "skip", password, cluster.stateDirectory])
            #expect(grep.stdout.isEmpty, "\(grep.stdout)")

            // requiretty, the way a test turns it on for one host (and off again).
            let on = try await cluster.exec("mc1", "printf 'Defaults requiretty\\n' > /etc/sudoers.d/requiretty && chmod 0440 /etc/sudoers.d/requiretty")
            #expect(on.status == 0)
            let tty = try await cluster.ssh("mc1", "sudo -n id -u", user: "deploy")
            #expect(tty.stderr.contains("sorry, you must have a tty to run sudo"), "\(tty.stderr)")
            expectSuccess(try await cluster.exec("mc1", "rm /etc/sudoers.d/requiretty"))
            #expect(try await cluster.ssh("mc1", "sudo -n id -u", user: "deploy").stdout == "0\n")
        }
    }

    @Test("down after a crash (inits killed, state dir gone) removes the bastion, the private bridge and the route")
    func downAfterCrashWithBastion() async throws {
        let cluster = try await TestCluster.up(memcache: 1, web: 1, reach: .init(privateRoles: ["memcache", "web"]))
        do {
            let pids = try cluster.hosts.map { host in
                try String(contentsOfFile: "\(cluster.stateDirectory)/hosts/\(host.name)/init.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            expectSuccess(try await runProcess("/bin/kill", ["-KILL"] + pids))
            try FileManager.default.removeItem(atPath: cluster.stateDirectory)
            #expect(try await cctNamespaces().sorted() == ["cct-bastion1", "cct-mc1", "cct-switch", "cct-web1"])
            #expect(try await TestCluster.reachLeftovers() == ["route unreachable 198.18.1.0/24 "])
        } catch {
            try? await cluster.down()
            throw error
        }
        try await cluster.down()   // fails if anything (the route included) is left
        #expect(try await cctNamespaces().isEmpty)
    }

    @Test("bad reach options are refused with a clear message before anything is touched")
    func badReachOptions() async throws {
        let cases: [([String], String)] = [
            (["up", "--memcache", "1", "--web", "1", "--private", "db"], "--private takes memcache, web, other (comma-separated), got 'db'"),
            (["up", "--memcache", "1", "--web", "1", "--private", "web", "--web-profile", "debian12"],
             "--private web: debian12 hosts cannot live on the private bridge yet"),
            (["up", "--memcache", "1", "--web", "1", "--host-keys", "ecdsa"], "--host-keys must include ed25519"),
            (["up", "--memcache", "1", "--web", "1", "--host-keys", "ed25519,dsa"], "--host-keys takes ed25519, ecdsa, rsa, got 'dsa'"),
            (["up", "--memcache", "1", "--web", "1", "--private"], "--private needs a value"),
        ]
        for (arguments, message) in cases {
            let out = try await runProcess("/bin/bash", [TestCluster.scriptPath] + arguments)
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(message), "\(arguments): \(out.stderr)")
        }
    }
}
