import Testing
@testable import ClusterKit

/// The override layers above php.ini that reset the session handler on EL7 (mod_php's php.conf) and EL8+
/// (php-fpm's www.conf): their lines are edited in place, nothing else changes, nothing is added.
@Suite struct SettingsEditorTests {
    static let settings = [PHPIniSetting(key: "session.save_handler", value: "memcache"),
                           PHPIniSetting(key: "session.save_path", value: "\"tcp://10.0.0.5:11211, tcp://10.0.0.6:11211\"")]

    /// EL7's /etc/httpd/conf.d/php.conf (php 5.4), abridged with its odd spacing kept.
    static let phpConf = """
        <IfModule prefork.c>
          LoadModule php5_module modules/libphp5.so
        </IfModule>
        AddHandler php5-script .php
        # Apache specific PHP configuration options
        #php_value session.save_handler "files"
        php_value session.save_handler "files"
        php_value   session.save_path    "/var/lib/php/session"\t
        php_value soap.wsdl_cache_dir  "/var/lib/php/wsdlcache"

        """

    @Test func apacheOverrideLinesAreEditedInPlace() {
        let edited = String(decoding: SettingsEditor.edit(Array(Self.phpConf.utf8), settings: Self.settings,
                                                          format: .apachePHPValue), as: UTF8.self)
        #expect(edited == Self.phpConf
            .replacingOccurrences(of: "\nphp_value session.save_handler \"files\"\n",
                                  with: "\nphp_value session.save_handler \"memcache\"\n")
            .replacingOccurrences(of: "\"/var/lib/php/session\"", with: "\"tcp://10.0.0.5:11211, tcp://10.0.0.6:11211\""))
        #expect(edited.contains("#php_value session.save_handler \"files\"\n"), "comments stay")
        #expect(SettingsEditor.edit(Array(edited.utf8), settings: Self.settings, format: .apachePHPValue) == Array(edited.utf8))
    }

    /// EL9's /etc/php-fpm.d/www.conf, abridged.
    static let wwwConf = """
        [www]
        user = apache
        listen = /run/php-fpm/www.sock
        ;php_value[session.save_handler] = files
        php_value[session.save_handler] = files
        php_value[session.save_path]    = /var/lib/php/session ; sessions
        php_value[soap.wsdl_cache_dir]  = /var/lib/php/wsdlcache

        """

    @Test func fpmPoolLinesAreEditedInPlace() {
        let edited = String(decoding: SettingsEditor.edit(Array(Self.wwwConf.utf8), settings: Self.settings,
                                                          format: .fpmPool), as: UTF8.self)
        #expect(edited == Self.wwwConf
            .replacingOccurrences(of: "\nphp_value[session.save_handler] = files\n", with: "\nphp_value[session.save_handler] = memcache\n")
            .replacingOccurrences(of: "= /var/lib/php/session ; sessions",
                                  with: "= \"tcp://10.0.0.5:11211, tcp://10.0.0.6:11211\" ; sessions"))
        #expect(edited.contains(";php_value[session.save_handler] = files\n"))
    }

    @Test func overridesAddNothingAndCreateNothing() {
        let pool = "[www]\nuser = apache\n"
        #expect(SettingsEditor.edit(Array(pool.utf8), settings: Self.settings, format: .fpmPool) == Array(pool.utf8))
        #expect(SettingsEditor.edit([], settings: Self.settings, format: .apachePHPValue).isEmpty)
        #expect(!SettingsFormat.fpmPool.createsMissing && SettingsFormat.phpIni.createsMissing)
        #expect(SettingsEditor.value("memcache", for: .apachePHPValue) == "\"memcache\"")
        #expect(SettingsEditor.value("memcache", for: .fpmPool) == "memcache")
    }

    @Test func elFamiliesEditTheLayerThatWins() throws {
        let el7 = try #require(OSFamilies.named("el7")), el9 = try #require(OSFamilies.named("el9"))
        #expect(el7.phpSettingsFiles.map(\.path) == ["/etc/php.ini", "/etc/httpd/conf.d/php.conf"])
        #expect(el7.service(restartedBy: "/etc/httpd/conf.d/php.conf") == "httpd")
        #expect(el9.phpSettingsFiles.map(\.path) == ["/etc/php.ini", "/etc/php-fpm.d/www.conf"])
        #expect(el9.service(restartedBy: "/etc/php.ini") == "php-fpm", "php-fpm, not httpd, reads php.ini on EL9")
        #expect(el9.services(for: [.web]) == ["php-fpm", "httpd"])
        #expect(el9.packages(for: [.web], sessionHandler: .memcached, firewall: true)
                == ["httpd", "php", "php-fpm", "php-pecl-memcached", "iptables-nft-services"])
        #expect(el9.installHints["php-pecl-memcached"]?.contains("crb") == true)
        #expect(el9.repositoryPackages(for: ["httpd", "php-pecl-memcached"]) == ["epel-release"])
        #expect(try #require(OSFamilies.named("el8")).repositoryPackages(for: ["memcached"]).isEmpty)
        #expect(OSFamilies.el5.repositoryPackages(for: ["memcached"]) == ["epel-release"])
    }

    /// A www.conf that the packages have not created yet is planned as an edit of the file they will install;
    /// one that is missing on a host that installs nothing is not created.
    @Test func missingOverrideIsPlannedOnlyWhenPackagesMayCreateIt() {
        let file = DesiredFile(path: "/etc/php-fpm.d/www.conf", content: .settingsEdit(.fpmPool, Self.settings), restarts: "php-fpm")
        #expect(FilesStep().fileChange(file, current: nil, packagesInstalled: false) == nil)
        #expect(FilesStep().fileChange(file, current: nil, packagesInstalled: true)?.file?.editFormat == .fpmPool)
    }
}

/// SELinux on EL web hosts: the boolean that lets httpd/php-fpm reach memcached, from the host's own state.
@Suite struct SELinuxTests {
    static func el9Fixture(mode: String) async -> EngineFixture {
        let fixture = EngineFixture()
        for transport in fixture.transports.values {
            await transport.configure {
                $0.osRelease = "Rocky Linux 9.4 (Blue Onyx)"
                $0.family = "el9"
                $0.selinuxMode = mode
            }
        }
        return fixture
    }

    static func plan(_ fixture: EngineFixture) async throws -> Plan {
        let builder = PlanBuilder()
        let targets = try builder.targets(inventory: fixture.inventory, renderer: Renderer(templates: try TemplateSet.bundled()))
        return await builder.plan(targets, pool: fixture.pool, parallel: 2)
    }

    @Test func booleanIsTurnedOnForWebHostsWhereSELinuxIsEnforcing() async throws {
        let fixture = await Self.el9Fixture(mode: "enforcing")
        let plan = try await Self.plan(fixture)
        let web1 = try #require(plan.hosts.first { $0.host.name == "web1" })
        #expect(web1.error == nil, "\(web1.error ?? "")")
        let selinux = web1.changes.filter { $0.kind == .setSELinuxBoolean }
        #expect(selinux.map(\.selinux) == ["httpd_can_network_memcache"])
        #expect(PlanTextRenderer.render(plan).contains("    + selinux boolean httpd_can_network_memcache on, persistently (off (SELinux is enforcing))\n"))
        #expect(plan.hosts.first { $0.host.name == "mc1" }?.changes.contains { $0.kind == .setSELinuxBoolean } == false)
        #expect(!(await fixture.apply(plan)).failed)
        #expect(await fixture.transport("web1").commands.contains("setsebool -P httpd_can_network_memcache on"))
        #expect(await fixture.transport("web1").selinuxBooleansOn == ["httpd_can_network_memcache"])
        let again = try await Self.plan(fixture)
        #expect(again.hosts.allSatisfy { !$0.changes.contains { $0.kind == .setSELinuxBoolean } })
    }

    @Test func nothingIsTouchedWhereSELinuxIsDisabled() async throws {
        let fixture = await Self.el9Fixture(mode: "disabled")
        let plan = try await Self.plan(fixture)
        #expect(plan.hosts.allSatisfy { $0.error == nil && !$0.changes.contains { $0.kind == .setSELinuxBoolean } })
        #expect(!(await fixture.apply(plan)).failed)
        #expect(await fixture.transport("web1").commands.allSatisfy { !$0.hasPrefix("setsebool") })
    }

    @Test func aNonDefaultMemcachedPortIsLabeled() throws {
        var inventory = EngineFixture().inventory
        inventory.memcached.port = 11311
        let host = inventory.hosts[0]
        let family = try #require(OSFamilies.named("el9"))
        let rendering = try Renderer(templates: try TemplateSet.bundled()).render(host, in: inventory, family: family)
        let desired = DesiredState(rendering: rendering, inventory: inventory, family: family)
        #expect(desired.selinuxPorts == ["memcache_port_t/11311"])
        var facts = HostFacts()
        facts.selinuxMode = "enforcing"
        let changes = SELinuxStep().changes(desired: desired, facts: facts, earlier: [])
        #expect(changes.map(\.kind) == [.labelSELinuxPort])
        #expect(SELinuxStep.command(for: changes[0])
                == "semanage port -a -t memcache_port_t -p tcp 11311 2>/dev/null || semanage port -m -t memcache_port_t -p tcp 11311")
        let debian = try #require(OSFamilies.named("debian12"))
        let debianDesired = DesiredState(rendering: try Renderer(templates: try TemplateSet.bundled()).render(host, in: inventory, family: debian),
                                         inventory: inventory, family: debian)
        #expect(debianDesired.selinuxPorts.isEmpty && debianDesired.factsQuery.asksSELinux == false)
    }
}
