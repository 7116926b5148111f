import Foundation
import Testing
@testable import ClusterKit

@Suite struct ApplyTests {
    @Test func freshHostRunsStepsInPhaseOrderWithAtomicWrites() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let recap = try await fixture.converge()
        #expect(!recap.failed)
        #expect(recap.outcomes.map(\.status) == [.changed, .changed, .changed])

        let mc1 = fixture.transport("mc1")
        let commands = await mc1.commands.filter { $0 != FactsGatherer.command }
        try #require(commands.count == 9)
        #expect(commands[0] == "yum -y install epel-release && rpm -q epel-release")
        #expect(commands[1] == "yum -y install memcached && rpm -q memcached")
        #expect(commands[2] == "mkdir -p /etc/sysconfig")   // the file did not exist when planned
        #expect(commands[3].hasPrefix("{ chown root:root /etc/sysconfig/.memcached.clusterctl-tmp-"))
        #expect(commands[3].contains("&& chmod 644 "))
        #expect(commands[3].contains("then cp -p /etc/sysconfig/memcached /etc/sysconfig/memcached.clusterctl-bak; fi"))
        #expect(commands[4] == "chkconfig memcached on")
        // The firewall before any service starts: memcached never listens unfiltered.
        #expect(commands[5] == FirewallScripts.applyScript(rollbackSeconds: 30))
        #expect(commands[6] == FirewallScripts.checkScript(persist: "service iptables save"))
        #expect(commands[7] == "service iptables save")
        #expect(commands[8] == "service memcached start")
        let uploads = await mc1.uploads
        #expect(uploads.count == 1)
        #expect(uploads.first?.path.hasPrefix("/etc/sysconfig/.memcached.clusterctl-tmp-") == true)
        #expect(uploads.first?.mode == 0o600)

        // The package created its stock sysconfig after the facts were taken: it is kept as the backup.
        let files = await mc1.files
        #expect(files["/etc/sysconfig/memcached"]?.contents == Array(EngineFixture.sysconfig(MemcachedSettings()).utf8))
        #expect(files["/etc/sysconfig/memcached.clusterctl-bak"]?.contents == Array(EngineFixture.stockSysconfig.utf8))
        #expect(files.keys.filter { $0.contains("clusterctl-tmp") }.isEmpty)
    }

    @Test func phpIniIsEditedAgainstTheFileThePackageInstalled() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let plan = try await fixture.plan()
        // Planned against a missing php.ini (php not installed yet) ...
        #expect(plan.hosts[1].changes.first { $0.kind == .writeFile }?.file?.exists == false)
        try #require(!(await fixture.apply(plan)).failed)
        // ... applied to the stock php.ini that installing php created: every other byte kept.
        let written = await fixture.transport("web1").files["/etc/php.ini"]
        #expect(written?.contents == PHPIniEditor.edit(Array(EngineFixture.stockPHPIni.utf8), settings: [
            PHPIniSetting(key: "session.save_handler", value: "memcache"),
            PHPIniSetting(key: "session.save_path", value: "\"tcp://198.18.0.11:11211\"")]))
        // Read by the install's own exec: the scripts fed to sh are the plan's facts and the lock's acquire and
        // release, no facts script of its own.
        let commands = await fixture.transport("web1").commands
        #expect(commands.filter { $0 == FactsGatherer.command }.count == 3)
        #expect(commands.contains { $0.hasPrefix("yum -y install httpd php php-pecl-memcache && rpm -q httpd php php-pecl-memcache"
                                                 + FactsScript.refreshSeparator) })
    }

    /// The real shell: what follows an install reports the files as they are after it, whatever the install printed.
    @Test func anInstallReadsTheFilesToEditInItsOwnExec() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cct-refresh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let present = directory.appendingPathComponent("php.ini").path, absent = directory.appendingPathComponent("none.ini").path
        try Data("[Session]\nsession.save_handler = files\n".utf8).write(to: URL(fileURLWithPath: present))
        let query = FactsQuery(packages: [], services: [], files: [present, absent], firewall: false)
        // The "install" prints lines that look like the report.
        let command = FactsScript.followedByRefresh("echo '\(FactsScript.header)'; echo 'family el5'; echo end-facts",
                                                    query: query, family: OSFamilies.el5)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", command]
        let pipe = Pipe()
        shell.standardOutput = pipe
        try shell.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        let report = try #require(FactsScript.refreshedFacts(Array(output)))
        let facts = try FactsParser.parse(report, host: "web1", candidates: [FactsCandidate(family: OSFamilies.el5, query: query)])
        #expect(facts.files[present]?.contents == Array("[Session]\nsession.save_handler = files\n".utf8))
        #expect(facts.files[absent] == nil)
        #expect(FactsScript.refreshedFacts(Array("yum output\n".utf8)) == nil)
    }

    @Test func secondApplyRunsNothingButFacts() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        try await fixture.converge()
        var before: [String: Int] = [:]
        for (name, transport) in fixture.transports { before[name] = await transport.commands.count }

        let recap = try await fixture.converge()
        #expect(recap.outcomes.allSatisfy { $0.status == .ok })
        for (name, transport) in fixture.transports {
            #expect(await Array(transport.commands.dropFirst(before[name]!)) == [FactsGatherer.command])
        }
    }

    @Test func oneFailingHostDoesNotStopTheOthers() async throws {
        let fixture = EngineFixture(webCount: 3)
        await fixture.makeFresh()
        let plan = try await fixture.plan()
        await fixture.transport("web2").configure { $0.failingCommands = ["install httpd"] }
        await fixture.transport("web3").configure { $0.unreachable = "web3: connection lost" }

        let recap = await fixture.apply(plan, parallel: 2)
        #expect(recap.failed)
        #expect(recap.outcome(for: "mc1")?.status == .changed)
        #expect(recap.outcome(for: "web1")?.status == .changed)
        let web2 = try #require(recap.outcome(for: "web2"))
        #expect(web2.status == .failed)
        #expect(web2.applied == 1)   // epel-release went in before the failure
        #expect(web2.message?.hasPrefix("install httpd php php-pecl-memcache: exit status 1: simulated failure") == true)
        #expect(recap.outcome(for: "web3")?.status == .failed)
        #expect(recap.outcome(for: "web3")?.message == "take the run lock: web3: connection lost")
        #expect(await fixture.transport("web2").commandsMatching("service ").isEmpty)
        #expect(recap.text.contains("  web2  failed (1 change): install httpd php php-pecl-memcache: exit status 1"))
        #expect(recap.text.hasSuffix("Apply: 0 ok, 2 changed, 2 failed.\n" + ApplyRecap.nextAfterFailure + "\n"))
    }

    @Test func packageYumSilentlySkipsIsAFailure() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("web1").configure { $0.unavailablePackages = ["php-pecl-memcache"] }
        let recap = try await fixture.converge()
        #expect(recap.outcome(for: "web1")?.status == .failed)
        #expect(recap.outcome(for: "web1")?.message
                == "install httpd php php-pecl-memcache: exit status 1: package php-pecl-memcache is not installed")
        #expect(recap.outcome(for: "web2")?.status == .changed)
    }

    @Test(arguments: [1, 4])
    func memcacheHostsConvergeBeforeWebHostsStartServices(parallel: Int) async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let journal = CommandJournal()
        for (name, transport) in fixture.transports {
            await transport.configure {
                $0.journal = journal
                $0.label = name
                $0.yieldsBeforeCommands = name == "mc1" ? 200 : 0   // mc1 is slow
            }
        }
        // web hosts listed first in the plan: the applier must still let mc1 finish before web services start.
        var plan = try await fixture.plan()
        plan.hosts.reverse()
        #expect(!(await fixture.apply(plan, parallel: parallel)).failed)
        let mcStarted = try #require(await journal.index(of: "mc1: service memcached start"))
        for web in ["web1", "web2"] {
            let webStarted = try #require(await journal.index(of: "\(web): service httpd start"))
            #expect(mcStarted < webStarted)
        }
    }
}
