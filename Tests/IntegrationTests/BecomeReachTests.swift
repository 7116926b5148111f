import Foundation
import Testing

/// Issue 12's "Done when" 3: `ssh.become: "sudo"` on the namespace cluster's el5 hosts, with their three users:
/// deploy (passwordless sudo), deploypw (sudo with its password), nosudo (no sudo rule). Proven from the hosts'
/// own records: sudo's log (/var/log/sudo.log), sshd's log (who logged in), the el5 shims' call logs (as which
/// uid packages and services were handled), file owners and modes, and a snapshot of what plan must not change.
@Suite(.serialized) struct BecomeReachTests {
    @Test func passwordlessSudoConvergesExactlyAsRootDoes() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let asRoot = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"])
            #expect(asRoot.status == 2, "\(asRoot.stdout)\n\(asRoot.stderr)")
            let inventory = try becomeInventory(cluster, user: "deploy")
            let rootLogins = try await loginCounts(cluster, user: "root")

            let plan = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"])
            #expect(plan.status == 2, "\(plan.stdout)\n\(plan.stderr)")
            #expect(plan.stdout == asRoot.stdout, "deploy+sudo must see the very plan root sees")
            let apply = try await clusterctl(["apply", "-i", inventory, "--yes"])
            #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            #expect(apply.stdout.contains("Apply: 0 ok, 3 changed, 0 failed."), "\(apply.stdout)")
            let verify = try await clusterctl(["verify", "-i", inventory])
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            #expect(try await loginCounts(cluster, user: "root") == rootLogins, "clusterctl logged in as root")

            try await expectRanThroughSudo(cluster, user: "deploy")
            for host in cluster.members {
                let log = try await cluster.hostFile(host.name, "/var/log/sudo.log")
                #expect(!log.contains("password"), "\(host.name): sudo asked deploy for a password: \(log)")
            }
            try await expectRootOwnedFiles(cluster)
            // Converged as root sees it too.
            let again = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"])
            #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")

            // An edited file keeps its owner and mode: php.ini made root:apache 0640 and edited by hand on both
            // web hosts, then repaired as deploy+sudo on web1 and as root on web2. Both end up the same.
            for web in ["web1", "web2"] {
                let edit = try await cluster.exec(web, "sed -i 's/:11211\"/:11299\"/' /etc/php.ini && chgrp apache /etc/php.ini && chmod 0640 /etc/php.ini")
                try #require(edit.status == 0, "\(edit.stderr)")
            }
            let viaSudo = try await clusterctl(["apply", "-i", inventory, "--yes", "--limit", "web1"])
            let viaRoot = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes", "--limit", "web2"])
            #expect(viaSudo.status == 0 && viaRoot.status == 0, "\(viaSudo.stdout)\(viaRoot.stdout)")
            var results: [String] = []
            for web in ["web1", "web2"] {
                results.append(try await cluster.exec(web, "stat -c '%U:%G %a' /etc/php.ini; md5sum < /etc/php.ini").stdout)
            }
            #expect(results[0] == results[1], "deploy+sudo: \(results[0]) root: \(results[1])")
            #expect(results[0].hasPrefix("root:apache 640\n"), "\(results[0])")
        }
    }

    @Test func passwordSudoWorksWithTheEnvironmentPasswordWhichNeverShows() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let inventory = try becomeInventory(cluster, user: "deploypw")
            let password = TestCluster.becomePassword
            let untouched = try await snapshots(cluster)

            // No password (no TTY, no environment): every host fails at plan, naming why; nothing changes.
            for command in [["plan", "-i", inventory], ["apply", "-i", inventory, "--yes"]] {
                let out = try await clusterctl(command)
                #expect(out.status != 0, "\(command[0]): \(out.stdout)")
                for host in cluster.members {
                    #expect((out.stdout + out.stderr).contains("\(host.name): become (sudo): sudo wants a password"),
                            "\(command[0]): \(out.stdout)\n\(out.stderr)")
                }
                #expect((out.stdout + out.stderr).contains("CLUSTERCTL_BECOME_PASSWORD"))
            }
            // A wrong password is refused as such.
            let wrong = try await clusterctl(["plan", "-i", inventory], environment: ["CLUSTERCTL_BECOME_PASSWORD": "not-it"])
            #expect(wrong.status != 0)
            #expect((wrong.stdout + wrong.stderr).contains("the sudo password was not accepted"), "\(wrong.stdout)\n\(wrong.stderr)")
            #expect(try await snapshots(cluster) == untouched, "a failed plan changed a host")

            // With the password: a saved plan (under the cluster's state dir), applied, verified, converged.
            let environment = ["CLUSTERCTL_BECOME_PASSWORD": password]
            let planFile = cluster.stateDirectory + "/plan-deploypw.json"
            var outputs: [ProcessOutput] = []
            let plan = try await clusterctl(["plan", "-i", inventory, "--out", planFile, "--detailed-exitcode"], environment: environment)
            #expect(plan.status == 2, "\(plan.stdout)\n\(plan.stderr)")
            let apply = try await clusterctl(["apply", planFile, "--yes"], environment: environment)
            #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            let verify = try await clusterctl(["verify", "-i", inventory], environment: environment)
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            let again = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"], environment: environment)
            #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
            outputs += [plan, apply, verify, again, wrong]

            try await expectRanThroughSudo(cluster, user: "deploypw")
            try await expectRootOwnedFiles(cluster)

            // The password appears in no output, in no file under the state dir (the hosts' disks, the saved
            // plan, the inventories, sudo's and sshd's logs), nor in the hosts' /tmp and /run (tmpfs, not in STATE).
            for out in outputs { #expect(!(out.stdout + out.stderr).contains(password)) }
            try #require(FileManager.default.fileExists(atPath: planFile))
            let grep = try await runProcess("/usr/bin/grep", ["-r", "-a", "-l", "-F", "-D", "skip", password, cluster.stateDirectory])
            #expect(grep.status == 1 && grep.stdout.isEmpty, "the password is in: \(grep.stdout)\(grep.stderr)")
            for host in cluster.members {
                let found = try await cluster.exec(host.name, "grep -r -a -l -F -D skip '\(password)' /tmp /run /var/lib/clusterctl /var/log; echo rc=$?")
                #expect(found.stdout == "rc=1\n", "\(host.name): \(found.stdout)")
            }
        }
    }

    /// On a terminal and without CLUSTERCTL_BECOME_PASSWORD, the password is asked once (not echoed) and used for
    /// every host. Driven through a real pseudo-terminal: python3's pty answers the prompt when it appears
    /// (getpass flushes input typed before it).
    @Test func onATerminalThePasswordIsAskedOnceForAllHosts() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let inventory = try becomeInventory(cluster, user: "deploypw")
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("clusterctl").path
            let driver = """
                import os, pty, select, sys, time
                pw = os.environ.pop("PW")
                pid, fd = pty.fork()
                if pid == 0:
                    os.execv(sys.argv[1], sys.argv[1:])
                out, sent, deadline = b"", False, time.time() + 300
                while time.time() < deadline:
                    r, _, _ = select.select([fd], [], [], 1)
                    if fd in r:
                        try:
                            data = os.read(fd, 4096)
                        except OSError:
                            break
                        if not data:
                            break
                        out += data
                        if not sent and b"sudo password" in out:
                            time.sleep(0.2)
                            os.write(fd, (pw + "\\n").encode())
                            sent = True
                _, status = os.waitpid(pid, 0)
                sys.stdout.buffer.write(out)
                sys.exit(os.waitstatus_to_exitcode(status))
                """
            let result = try await runProcess("/usr/bin/python3", ["-c", driver, binary, "plan", "-i", inventory],
                                              environment: ["PW": TestCluster.becomePassword])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.components(separatedBy: "sudo password for the hosts' login users:").count == 2,
                    "asked exactly once: \(result.stdout)")
            #expect(!result.stdout.contains(TestCluster.becomePassword), "the password was echoed or printed")
            #expect(result.stdout.contains("Plan: 3 of 3 hosts change;"), "\(result.stdout)")
        }
    }

    @Test func noSudoUserAndRequirettyFailAtPlanNamingTheReasonAndChangeNothing() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            // mc1 as deploy (works), web1 as deploy under `Defaults requiretty`, web2 as nosudo (no sudo rule).
            let requiretty = try await cluster.exec("web1", """
                printf 'Defaults requiretty\\n' > /etc/sudoers.d/requiretty && chmod 0440 /etc/sudoers.d/requiretty && visudo -c -q
                """)
            try #require(requiretty.status == 0, "\(requiretty.stdout)\(requiretty.stderr)")
            let inventory = try becomeInventory(cluster, user: "deploy", perHost: ["web2": "nosudo"])
            let environment = ["CLUSTERCTL_BECOME_PASSWORD": TestCluster.becomePassword]
            let untouched = try await snapshots(cluster)

            let plan = try await clusterctl(["plan", "-i", inventory], environment: environment)
            #expect(plan.status != 0)
            let planText = plan.stdout + plan.stderr
            #expect(planText.contains("web1: become (sudo): sudo requires a terminal on this host (sudoers `Defaults requiretty`)"), "\(planText)")
            #expect(planText.contains("web2: become (sudo): sudo does not work for this user: nosudo is not in the sudoers file"), "\(planText)")
            #expect(!planText.contains("mc1: become"), "\(planText)")
            // Without a password, sudo will not say whether nosudo may use it before authenticating: the
            // host still fails at plan, naming the missing password.
            let noPassword = try await clusterctl(["plan", "-i", inventory, "--limit", "web2"])
            #expect(noPassword.status != 0)
            #expect((noPassword.stdout + noPassword.stderr).contains("web2: become (sudo): sudo wants a password"), "\(noPassword.stdout)\(noPassword.stderr)")

            let apply = try await clusterctl(["apply", "-i", inventory, "--yes"], environment: environment)
            #expect(apply.status != 0, "\(apply.stdout)")
            #expect(apply.stdout.contains("web1  failed: ") && apply.stdout.contains("web2  failed: "), "\(apply.stdout)")
            let after = try await snapshots(cluster)
            #expect(after["web1"] == untouched["web1"], "web1 changed although sudo could not run there")
            #expect(after["web2"] == untouched["web2"], "web2 changed although nosudo has no sudo")
            let sudoLog = try await cluster.hostFile("web2", "/var/log/sudo.log")
            #expect(sudoLog.contains("nosudo : user NOT in sudoers"), "\(sudoLog)")
            #expect(try await cluster.hostFile("web1", "/var/log/sudo.log").contains("deploy : no tty"))

            // Without requiretty, web1 converges as deploy.
            expectSuccess(try await cluster.exec("web1", "rm /etc/sudoers.d/requiretty"))
            let retry = try await clusterctl(["apply", "-i", inventory, "--yes", "--limit", "mc1,web1"], environment: environment)
            #expect(retry.status == 0, "\(retry.stdout)\n\(retry.stderr)")
            #expect(retry.stdout.contains("web1  changed"), "\(retry.stdout)")
        }
    }

    // MARK: helpers

    /// The cluster's inventory with `ssh.user` = `user` (per host from `perHost`) and `ssh.become` = "sudo".
    private func becomeInventory(_ cluster: TestCluster, user: String, perHost: [String: String] = [:]) throws -> String {
        var json = try inventoryJSON(cluster)
        var ssh = json["ssh"] as! [String: Any]
        ssh["user"] = user
        ssh["become"] = "sudo"
        json["ssh"] = ssh
        var hosts = json["hosts"] as! [String: [String: Any]]
        for (name, hostUser) in perHost { hosts[name]?["ssh"] = ["user": hostUser] }
        json["hosts"] = hosts
        return try writeInventory(cluster, "inventory-become-\(user).json", json)
    }

    private func loginCounts(_ cluster: TestCluster, user: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for host in cluster.members { counts[host.name] = try await cluster.sshdLogCount(host.name, "Accepted publickey for \(user) ") }
        return counts
    }

    /// sshd saw `user` log in; sudo ran root commands for `user` and refused nothing; the package shims ran as
    /// uid 0; no upload was left in /tmp.
    private func expectRanThroughSudo(_ cluster: TestCluster, user: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for host in cluster.members {
            #expect(try await cluster.sshdLogCount(host.name, "Accepted publickey for \(user) ") > 0, sourceLocation: sourceLocation)
            let sudo = try await cluster.hostFile(host.name, "/var/log/sudo.log").split(whereSeparator: \.isNewline)
            let ran = sudo.filter { $0.contains(" : \(user) : ") && $0.contains("USER=root ; COMMAND=/bin/sh -c") && !$0.contains("password") }
            #expect(ran.count >= 3, "\(host.name): sudo log: \(sudo.suffix(5))", sourceLocation: sourceLocation)
            #expect(!sudo.contains { $0.contains("NOT in sudoers") || $0.contains("no tty") }, "\(host.name): \(sudo)",
                    sourceLocation: sourceLocation)
            #expect(sudo.contains { $0.contains(" : \(user) : ") && $0.contains("COMMAND=/bin/sh -c 'install -m ")
                && $0.contains(" /tmp/.clusterctl-upload-") },
                    "\(host.name): no upload moved into place by root", sourceLocation: sourceLocation)
            let installs = try await cluster.hostFile(host.name, "/var/log/clusterctl-test/yum.log")
                .split(whereSeparator: \.isNewline).filter { $0.contains(" install ") }
            #expect(!installs.isEmpty && installs.allSatisfy { $0.contains(" uid=0 yum ") }, "\(host.name): \(installs)",
                    sourceLocation: sourceLocation)
            let leftover = try await cluster.exec(host.name, "ls -A /tmp | grep -c clusterctl-upload || true")
            #expect(leftover.stdout == "0\n", "\(host.name): uploads left in /tmp", sourceLocation: sourceLocation)
        }
    }

    /// The managed files are root's, mode 0644, as when root writes them.
    private func expectRootOwnedFiles(_ cluster: TestCluster, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for host in cluster.members {
            let file = host.roles.contains("memcache") ? "/etc/sysconfig/memcached" : "/etc/php.ini"
            let stat = try await cluster.exec(host.name, "stat -c '%U:%G %a' \(file)")
            #expect(stat.stdout == "root:root 644\n", "\(host.name) \(file): \(stat.stdout)\(stat.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// What a plan or a refused apply must not change on a host: packages, managed files, firewall rules,
    /// clusterctl's state on the host, the changing calls (install, enable, start) the shims logged.
    private func snapshots(_ cluster: TestCluster) async throws -> [String: String] {
        var result: [String: String] = [:]
        for host in cluster.members {
            result[host.name] = try await cluster.exec(host.name, """
                cat /var/lib/rpm/cct-installed 2>&1 | sort
                md5sum /etc/php.ini /etc/sysconfig/memcached /etc/yum.repos.d/* 2>&1
                iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'
                ls -la /var/lib/clusterctl 2>&1
                cat /var/log/clusterctl-test/*.log 2>/dev/null \
                  | grep -E ' (yum .*install|rpm -[Ui]|chkconfig [a-z]+ on|service [a-z]+ (start|restart|stop)) ' || true
                """).stdout
        }
        return result
    }
}
