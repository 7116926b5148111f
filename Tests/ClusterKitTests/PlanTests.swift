import Testing
@testable import ClusterKit

@Suite struct PlanTests {
    @Test func freshClusterPlansInstallsFilesEnablesAndStarts() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let plan = try await fixture.plan()

        let mc1 = try #require(plan.hosts.first { $0.host.name == "mc1" })
        #expect(mc1.error == nil)
        try #require(mc1.changes.map(\.kind) == [.installPackage, .installPackage, .writeFile, .enableService,
                                                 .replaceFirewallChain, .startService])
        #expect(mc1.changes[0].package == "epel-release" && mc1.changes[0].phase == .repository)
        #expect(mc1.changes[1].package == "memcached" && mc1.changes[1].phase == .packages)
        #expect(mc1.changes[2].file?.path == "/etc/sysconfig/memcached")
        #expect(mc1.changes[2].file?.diff.hasPrefix("--- /dev/null\n+++ /etc/sysconfig/memcached\n@@ -0,0 +1,5 @@\n") == true)

        let web1 = try #require(plan.hosts.first { $0.host.name == "web1" })
        #expect(web1.changes.compactMap(\.package) == ["epel-release", "httpd", "php", "php-pecl-memcache"])
        #expect(web1.changes.compactMap(\.file?.path) == ["/etc/php.ini"])
        #expect(web1.changes.filter { $0.kind == .enableService }.compactMap(\.service) == ["httpd"])
        #expect(web1.changes.filter { $0.kind == .startService }.compactMap(\.service) == ["httpd"])

        #expect(plan.summary.line == "Plan: 3 of 3 hosts change; 10 packages, 3 files, 3 services, 3 firewall chains.")
        let text = PlanTextRenderer.render(plan)
        #expect(text.contains("~ mc1 (memcache) [CentOS release 5.11 (Final), el5]\n    + package epel-release (repository)\n"
                              + "    + package memcached\n"))
        #expect(text.contains("    > start httpd (not running)\n"))
        #expect(text.hasSuffix("Plan: 3 of 3 hosts change; 10 packages, 3 files, 3 services, 3 firewall chains.\n"))
    }

    @Test func convergedClusterPlansNothing() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let recap = try await fixture.converge()
        #expect(!recap.failed)

        let plan = try await fixture.plan()
        #expect(!plan.hasChanges)
        #expect(PlanTextRenderer.render(plan) == """
              mc1 [CentOS release 5.11 (Final), el5]: no changes
              web1 [CentOS release 5.11 (Final), el5]: no changes
              web2 [CentOS release 5.11 (Final), el5]: no changes

            Plan: 0 of 3 hosts change; 0 packages, 0 files, 0 services, 0 firewall chains.

            """)
    }

    @Test func changedCacheSizeChangesOneFileAndRestartsMemcachedOnly() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        try await fixture.converge()

        var changed = EngineFixture(cacheSizeMB: 128)
        changed.transports = fixture.transports
        let plan = try await changed.plan()
        let mc1 = try #require(plan.hosts.first { $0.host.name == "mc1" })
        try #require(mc1.changes.map(\.kind) == [.writeFile, .restartService])
        #expect(mc1.changes[1].service == "memcached")
        #expect(mc1.changes[1].reason == "config changed: /etc/sysconfig/memcached")
        #expect(mc1.changes[0].file?.diff == """
            --- /etc/sysconfig/memcached
            +++ /etc/sysconfig/memcached
            @@ -1,5 +1,5 @@
             PORT="11211"
             USER="memcached"
             MAXCONN="1024"
            -CACHESIZE="64"
            +CACHESIZE="128"
             OPTIONS=""

            """)
        #expect(plan.hosts.filter { $0.host.name != "mc1" }.allSatisfy { $0.changes.isEmpty })
        #expect(plan.summary.line == "Plan: 1 of 3 hosts change; 0 packages, 1 files, 1 services, 0 firewall chains.")

        let recap = await changed.apply(plan)
        #expect(recap.outcome(for: "mc1")?.status == .changed)
        #expect(recap.outcome(for: "web1")?.status == .ok)
        #expect(await fixture.transport("mc1").commandsMatching("service ") == [
            "service iptables save", "service memcached start", "service memcached restart"])
        #expect(await fixture.transport("web1").commandsMatching("service ") == ["service iptables save", "service httpd start"])
    }

    @Test func ownerAndModeDriftIsAFileChangeWithoutRestart() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        try await fixture.converge()
        await fixture.transport("mc1").configure {
            $0.files["/etc/sysconfig/memcached"]?.mode = 0o600
            $0.files["/etc/sysconfig/memcached"]?.owner = "nobody"
        }
        let mc1 = try #require(try await fixture.plan().hosts.first { $0.host.name == "mc1" })
        try #require(mc1.changes.count == 1, "no restart: the content the service reads is unchanged")
        #expect(mc1.changes[0].reason == "mode 0600 → 0644, owner nobody:root → root:root")
        #expect(mc1.changes[0].file?.diff == "")
        try #require(!(await fixture.converge()).failed)
        let file = await fixture.transport("mc1").files["/etc/sysconfig/memcached"]
        #expect(file?.mode == 0o644 && file?.owner == "root")
    }

    @Test func stoppedServiceIsStartedNotRestarted() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        try await fixture.converge()
        await fixture.transport("web2").configure { $0.services["httpd"]?.running = false }
        let plan = try await fixture.plan()
        let web2 = try #require(plan.hosts.first { $0.host.name == "web2" })
        #expect(web2.changes == [.start("httpd", reason: "not running")])
    }

    @Test func limitRestrictsHostsAndRejectsUnknownPatterns() async throws {
        let fixture = EngineFixture(webCount: 3)
        await fixture.makeFresh()
        #expect(try await fixture.plan(limit: "web*").hosts.map(\.host.name) == ["web1", "web2", "web3"])
        #expect(try await fixture.plan(limit: "mc1,web?").hosts.map(\.host.name) == ["mc1", "web1", "web2", "web3"])
        #expect(try await fixture.plan(limit: " web2 ").hosts.map(\.host.name) == ["web2"])
        #expect(throws: HostLimitError.self) { try HostLimit("wbe*").select(fixture.inventory.hosts) }
        #expect(HostLimit.matches("web10", pattern: "w*1*"))
        #expect(!HostLimit.matches("mc1", pattern: "web*"))
        #expect(HostLimit.matches("anything", pattern: "*"))
    }

    @Test func realRendererOutputConvergesAndStaysConverged() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let renderings = try Renderer(templates: try TemplateSet.bundled()).render(fixture.inventory)
        let builder = PlanBuilder()
        let targets = try builder.targets(inventory: fixture.inventory, renderer: Renderer(templates: try TemplateSet.bundled()))
        #expect(targets.allSatisfy { $0.candidates.map(\.family) == OSFamilies.all }, "no os in the inventory: every family")
        let first = await builder.plan(targets, pool: fixture.pool, parallel: 2)
        #expect(first.summary.line == "Plan: 3 of 3 hosts change; 10 packages, 3 files, 3 services, 3 firewall chains.")
        try #require(!(await fixture.apply(first)).failed)

        let sysconfig = await fixture.transport("mc1").files["/etc/sysconfig/memcached"]
        #expect(sysconfig?.contents == Array(renderings[0].managedFiles[0].contents.utf8))
        let phpIni = String(decoding: await fixture.transport("web2").files["/etc/php.ini"]?.contents ?? [], as: UTF8.self)
        #expect(phpIni.contains("session.save_handler   =memcache\n"))
        #expect(phpIni.contains("session.save_path = \"tcp://198.18.0.11:11211\"   ; stock path\n"))

        #expect(!(await builder.plan(targets, pool: fixture.pool, parallel: 2)).hasChanges)
    }

    @Test func hostsWithoutRolesAreNotContacted() async throws {
        let fixture = EngineFixture(withOtherHost: true)
        await fixture.makeFresh()
        #expect(try await fixture.plan().hosts.map(\.host.name) == ["mc1", "web1", "web2"])
        #expect(await fixture.transport("other1").commands.isEmpty)
    }

    @Test func unreachableHostIsPlannedAsError() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("web2").configure { $0.unreachable = "connect: connection refused" }
        let plan = try await fixture.plan()
        #expect(plan.hosts.first { $0.host.name == "web2" }?.error == "connect: connection refused")
        #expect(plan.summary.failedHosts == 1)
        #expect(PlanTextRenderer.render(plan).contains("! web2: cannot plan: connect: connection refused\n"))
    }
}
