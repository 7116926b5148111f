import Foundation
import Testing
@testable import ClusterKit

/// OS families: recognising a host from its release files (the real detection script under the real
/// /bin/sh, which is dash here), and planning and applying a Debian host through the family seam.
@Suite struct FamilyTests {
    /// Runs the detection part of the facts script against release files written to a directory of its own.
    static func detect(osRelease: String? = nil, redhatRelease: String? = nil) async throws -> (os: String, family: String) {
        let dir = NSTemporaryDirectory() + "cct-detect-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        if let osRelease { try osRelease.write(toFile: dir + "/etc/os-release", atomically: true, encoding: .utf8) }
        if let redhatRelease { try redhatRelease.write(toFile: dir + "/etc/redhat-release", atomically: true, encoding: .utf8) }
        let script = PlatformDetection.script(families: OSFamilies.all, root: dir) + "\n"
        let result = try await LocalShellTransport().run("/bin/sh -s", stdin: Array(script.utf8))
        #expect(result.exitStatus == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        return (lines.first { $0.hasPrefix("os ") }.map { String($0.dropFirst(3)) } ?? "",
                lines.first { $0.hasPrefix("family ") }.map { String($0.dropFirst(7)) } ?? "")
    }

    static func osRelease(_ id: String, like: String? = nil, version: String?, pretty: String) -> String {
        "PRETTY_NAME=\"\(pretty)\"\nNAME=\"x\"\nID=\(id)\n" + (like.map { "ID_LIKE=\"\($0)\"\n" } ?? "")
            + (version.map { "VERSION_ID=\"\($0)\"\n" } ?? "")
    }

    @Test(arguments: [
        (osRelease("debian", version: "12", pretty: "Debian GNU/Linux 12 (bookworm)"), "debian12", "Debian GNU/Linux 12 (bookworm)"),
        (osRelease("debian", version: "11", pretty: "Debian GNU/Linux 11 (bullseye)"), "debian11", "Debian GNU/Linux 11 (bullseye)"),
        (osRelease("ubuntu", like: "debian", version: "24.04", pretty: "Ubuntu 24.04.1 LTS"), "ubuntu24.04", "Ubuntu 24.04.1 LTS"),
        (osRelease("ubuntu", like: "debian", version: "22.04", pretty: "Ubuntu 22.04.4 LTS"), "ubuntu22.04", "Ubuntu 22.04.4 LTS"),
        // A derivative is recognised through ID_LIKE when its version is its parent's.
        (osRelease("raspbian", like: "debian", version: "12", pretty: "Raspbian GNU/Linux 12 (bookworm)"), "debian12",
         "Raspbian GNU/Linux 12 (bookworm)"),
        // ... and not when its versions are its own.
        (osRelease("linuxmint", like: "ubuntu debian", version: "21.3", pretty: "Linux Mint 21.3"), "unsupported", "Linux Mint 21.3"),
        (osRelease("ubuntu", like: "debian", version: "20.04", pretty: "Ubuntu 20.04.6 LTS"), "unsupported", "Ubuntu 20.04.6 LTS"),
        (osRelease("gentoo", version: nil, pretty: "Gentoo Linux"), "unsupported", "Gentoo Linux"),
        (osRelease("rocky", like: "rhel centos fedora", version: "9.4", pretty: "Rocky Linux 9.4 (Blue Onyx)"), "el9",
         "Rocky Linux 9.4 (Blue Onyx)"),
        (osRelease("almalinux", like: "rhel centos fedora", version: "8.10", pretty: "AlmaLinux 8.10"), "el8", "AlmaLinux 8.10"),
        (osRelease("centos", like: "rhel fedora", version: "7", pretty: "CentOS Linux 7 (Core)"), "el7", "CentOS Linux 7 (Core)"),
        (osRelease("fedora", version: "40", pretty: "Fedora Linux 40"), "unsupported", "Fedora Linux 40"),
        (osRelease("amzn", like: "centos rhel fedora", version: "2", pretty: "Amazon Linux 2"), "unsupported", "Amazon Linux 2"),
    ])
    func recognisesOSRelease(file: String, family: String, os: String) async throws {
        let found = try await Self.detect(osRelease: file)
        #expect(found.family == family)
        #expect(found.os == os)
    }

    /// Apache already handing PHP to php-fpm selects the release's +fpm variant.
    @Test func recognisesDebianServingPHPThroughFPM() async throws {
        let dir = NSTemporaryDirectory() + "cct-detect-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/etc/apache2/conf-enabled", withIntermediateDirectories: true)
        try Self.osRelease("debian", version: "12", pretty: "Debian GNU/Linux 12 (bookworm)")
            .write(toFile: dir + "/etc/os-release", atomically: true, encoding: .utf8)
        func family() async throws -> String? {
            let script = PlatformDetection.script(families: OSFamilies.all, root: dir) + "\n"
            let out = try await LocalShellTransport().run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
            return out.split(separator: "\n").first { $0.hasPrefix("family ") }.map { String($0.dropFirst(7)) }
        }
        #expect(try await family() == "debian12")
        FileManager.default.createFile(atPath: dir + "/etc/apache2/conf-enabled/php8.2-fpm.conf", contents: Data())
        #expect(try await family() == "debian12+fpm")
        let fpm = try #require(OSFamilies.named("debian12+fpm"))
        #expect(fpm.release == "debian12")
        #expect(fpm.packages(for: [.web], sessionHandler: .memcached, firewall: false)
                == ["apache2", "php8.2-fpm", "php8.2-cli", "php8.2-memcached"], "no mod_php: it would take PHP over")
        #expect(fpm.services(for: [.web]) == ["php8.2-fpm", "apache2"])
        #expect(fpm.service(restartedBy: "/etc/php/8.2/fpm/php.ini") == "php8.2-fpm")
        #expect(fpm.servingPHPIni == "/etc/php/8.2/fpm/php.ini")
    }

    @Test func recognisesEL5FromRedhatRelease() async throws {
        #expect(try await Self.detect(redhatRelease: "CentOS release 5.11 (Final)\n") == ("CentOS release 5.11 (Final)", "el5"))
        #expect(try await Self.detect(redhatRelease: "Red Hat Enterprise Linux Server release 5.4 (Tikanga)\n").family == "el5")
        #expect(try await Self.detect(redhatRelease: "CentOS release 6.10 (Final)\n").family == "el6")
        #expect(try await Self.detect().family == "unsupported")
    }

    @Test func everyFamilyKeyAndMatchIsDistinct() {
        #expect(Set(OSFamilies.all.map(\.key)).count == OSFamilies.all.count)
        #expect(Set(OSFamilies.all.map { $0.match.ids.joined(separator: " ") + "/" + $0.match.version + "/"
                    + ($0.match.whenFileExists ?? "") }).count == OSFamilies.all.count)
        for family in OSFamilies.all {
            #expect(family.service(restartedBy: family.memcachedConfig.path) == family.memcachedService)
            #expect(family.phpSettingsFiles.contains { $0.path == family.servingPHPIni && family.webServices.contains($0.restarts ?? "") })
        }
    }

    /// A Debian 12 host through the in-memory transport: apt package names of its PHP, memcached.conf, both
    /// php.ini files, systemd, netfilter-persistent.
    @Test func debianHostPlansAndAppliesInItsOwnTerms() async throws {
        var fixture = EngineFixture()
        fixture.inventory.hosts = fixture.inventory.hosts.filter { $0.name != "web2" }
        fixture.transports["web2"] = nil
        for transport in fixture.transports.values {
            await transport.configure {
                $0.osRelease = "Debian GNU/Linux 12 (bookworm)"
                $0.family = "debian12"
                $0.packageFiles = ["libapache2-mod-php8.2": ["/etc/php/8.2/apache2/php.ini": EngineFixture.stockPHPIni],
                                   "php8.2-cli": ["/etc/php/8.2/cli/php.ini": EngineFixture.stockPHPIni]]
            }
        }
        let builder = PlanBuilder()
        let targets = try builder.targets(inventory: fixture.inventory, renderer: Renderer(templates: try TemplateSet.bundled()))
        let plan = await builder.plan(targets, pool: fixture.pool, parallel: 2)
        let mc1 = try #require(plan.hosts.first { $0.host.name == "mc1" })
        #expect(mc1.family == OSFamilies.named("debian12") && mc1.error == nil)
        #expect(mc1.changes.compactMap(\.package) == ["memcached", "iptables", "iptables-persistent"])
        let conf = try #require(mc1.changes.first { $0.file?.path == "/etc/memcached.conf" }?.file)
        let text = String(decoding: conf.newContents, as: UTF8.self)
        #expect(text.contains("\n-u memcache\n") && text.contains("\n-l 198.18.0.11\n") && !text.contains("\n-l 127.0.0.1"))
        let web1 = try #require(plan.hosts.first { $0.host.name == "web1" })
        #expect(web1.changes.compactMap(\.package)
                == ["apache2", "libapache2-mod-php8.2", "php8.2-cli", "php8.2-memcache", "iptables", "iptables-persistent"])
        #expect(web1.changes.compactMap(\.file?.path) == ["/etc/php/8.2/apache2/php.ini", "/etc/php/8.2/cli/php.ini"])
        #expect(PlanTextRenderer.render(plan).contains("~ web1 (web) [Debian GNU/Linux 12 (bookworm), debian12]\n"))

        let recap = await fixture.apply(plan)
        #expect(!recap.failed, "\(recap.text)")
        let commands = await fixture.transport("mc1").commands.filter { $0 != FactsGatherer.command }
        #expect(commands.first?.hasPrefix("export DEBIAN_FRONTEND=noninteractive; ") == true)
        #expect(commands.contains("systemctl enable memcached") && commands.contains("netfilter-persistent save"))
        // memcached was started by its package: the planned start is a restart, to read the new config.
        #expect(commands.last?.hasPrefix("systemctl restart memcached && { sleep 1; systemctl is-active --quiet memcached") == true)
        let apachePHPIni = String(decoding: await fixture.transport("web1").files["/etc/php/8.2/apache2/php.ini"]?.contents ?? [],
                                  as: UTF8.self)
        #expect(apachePHPIni.contains("session.save_handler   =memcache\n"))
        #expect(await fixture.transport("web1").files["/etc/php/8.2/cli/php.ini"] != nil)

        let again = await builder.plan(targets, pool: fixture.pool, parallel: 2)
        #expect(!again.hasChanges, "\(PlanTextRenderer.render(again))")
    }

    @Test func unsupportedOSIsRefusedNamingWhatItIsAndNothingRuns() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("web2").configure { $0.osRelease = "Gentoo Linux"; $0.family = "unsupported" }
        let builder = PlanBuilder()
        let targets = try builder.targets(inventory: fixture.inventory, renderer: Renderer(templates: try TemplateSet.bundled()))
        let plan = await builder.plan(targets, pool: fixture.pool, parallel: 2)
        let web2 = try #require(plan.hosts.first { $0.host.name == "web2" })
        #expect(web2.error == "web2: Gentoo Linux: not a supported OS (supported: \(OSFamilies.supportedList)); nothing was run on it")
        #expect(plan.hosts.filter { $0.error == nil }.count == 2, "the other hosts are planned")
        let recap = await fixture.apply(plan)
        #expect(recap.outcome(for: "web2")?.status == .failed)
        #expect(await fixture.transport("web2").commands == [FactsGatherer.command])
    }

    @Test func inventoryOSThatDiffersFromTheHostIsRefused() async throws {
        var fixture = EngineFixture()
        await fixture.makeFresh()
        fixture.inventory.hosts = fixture.inventory.hosts.map { var h = $0; if h.name == "web1" { h.os = "debian12" }; return h }
        let builder = PlanBuilder()
        let targets = try builder.targets(inventory: fixture.inventory, renderer: Renderer(templates: try TemplateSet.bundled()))
        #expect(targets.first { $0.host.name == "web1" }?.candidates.map(\.family.key) == ["debian12+fpm", "debian12"])
        let plan = await builder.plan(targets, pool: fixture.pool, parallel: 2)
        #expect(plan.hosts.first { $0.host.name == "web1" }?.error
                == "web1: the host runs CentOS release 5.11 (Final), which is EL 5 (el5), but Debian 12 (debian12) was expected "
                + "(the inventory's os, or the saved plan's); nothing was run on it")
    }

    @Test func savedPlanRefusesAHostWhoseOSChanged() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let saved = try PlanDocument(try await fixture.plan()).encoded()
        await fixture.transport("web1").configure { $0.osRelease = "Debian GNU/Linux 12 (bookworm)"; $0.family = "debian12" }
        let recap = await fixture.apply(try PlanDocument.decode(saved, file: "plan.json").plan, checkFingerprints: true)
        let web1 = try #require(recap.outcome(for: "web1"))
        #expect(web1.status == .failed)
        #expect(web1.message?.contains("the host runs Debian GNU/Linux 12 (bookworm), which is Debian 12 (debian12), but EL 5 (el5) was expected") == true)
        // The plan's facts, then the run lock with the facts re-read under it, then the lock's release: no change.
        #expect(await fixture.transport("web1").commands == [FactsGatherer.command, FactsGatherer.command, FactsGatherer.command])
        #expect(await fixture.transport("web1").runLock == nil)
    }

    @Test func activeUfwIsRefusedWithWhatToDo() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("mc1").configure { $0.ufwActive = true }
        let plan = try await fixture.plan()
        let error = try #require(plan.hosts.first { $0.host.name == "mc1" }?.error)
        #expect(error.contains("ufw is active on this host") && error.contains("`ufw disable`"))
        #expect(plan.hosts.filter { $0.error == nil }.count == 2)
    }
}

@Suite struct InventoryOSTests {
    @Test func hostOSOverridesTheTopLevelOneAndRenderUsesIt() throws {
        let json = #"{ "os": "debian12", "hosts": { "mc1": { "roles": ["memcache"], "address": "198.18.0.11" }, "#
            + #""web1": { "roles": ["web"], "address": "198.18.0.21", "os": "el5" } } }"#
        let inventory = try InventoryLoader.load(text: json, file: "inv.json")
        #expect(inventory.host(named: "mc1")?.os == "debian12" && inventory.host(named: "web1")?.os == "el5")
        let renderings = try Renderer(templates: try TemplateSet.bundled()).render(inventory)
        #expect(renderings[0].managedFiles.map(\.path) == ["/etc/memcached.conf"])
        #expect(renderings[0].family.key == "debian12")
        #expect(renderings[1].family.key == "el5")
        #expect(renderings[0].managedFiles[0].contents == """
            # /etc/memcached.conf for mc1: managed by clusterctl, local changes are overwritten.
            # Read by systemd-memcached-wrapper (Debian, Ubuntu), one option per line: memcached listens only on the
            # private address (the package's default "-l 127.0.0.1" is gone on purpose).
            -p 11211
            -u memcache
            -m 64
            -c 1024
            -l 198.18.0.11
            -P /var/run/memcached/memcached.pid
            logfile /var/log/memcached.log
            # memcached.extraOptions (the wrapper strips the trailing blank):


            """)
    }
}
