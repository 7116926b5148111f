import Foundation
import Testing
@testable import ClusterKit

@Suite struct TemplateTests {
    static func exampleInventory() throws -> Inventory {
        try InventoryLoader.load(path: InventoryLoaderTests.repositoryRoot.appendingPathComponent("inventory.example.json").path)
    }

    /// A fresh directory under the system temp dir, removed by the caller's defer.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clusterctl-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func bundledTemplatesAreTheFourNamedFiles() throws {
        let set = try TemplateSet.bundled()
        for name in TemplateName.allCases { #expect(set.origin(of: name) == name.rawValue) }
    }

    @Test func configValuesAreNotHTMLEscaped() throws {
        // Inventory values can never contain these characters (validation), so prove it on the engine directly:
        // Mustache's default would print &lt;b&gt;&amp;&quot;c&quot;&#39;d.
        let loaded = try TemplateSet.parse("A=\"{{hostName}}\"\n{{#isWeb}}B={{hostName}}\n{{/isWeb}}", origin: "t.mustache")
        #expect(loaded.template.render(["hostName": "a<b>&\"c\"'d", "isWeb": true])
                == "A=\"a<b>&\"c\"'d\"\nB=a<b>&\"c\"'d\n")
    }

    @Test func overrideReplacesOnlyTheSameNamedTemplate() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "PORT={{memcachedPort}}\nOPTIONS=\"-l {{privateAddress}} -v\"\n"
            .write(to: directory.appendingPathComponent("memcached.sysconfig.mustache"), atomically: true, encoding: .utf8)
        try "notes about my templates\n".write(to: directory.appendingPathComponent("README"), atomically: true, encoding: .utf8)
        let set = try TemplateSet(overridesDirectory: directory.path)
        #expect(set.origin(of: .memcachedSysconfig) == directory.appendingPathComponent("memcached.sysconfig.mustache").path)
        #expect(set.origin(of: .phpSession) == "php-session.ini.mustache")

        let inventory = try Self.exampleInventory()
        let overridden = try Renderer(templates: set).render(inventory)
        let bundled = try Renderer(templates: .bundled()).render(inventory)
        let mc1 = try #require(overridden.first { $0.host.name == "mc1" })
        #expect(mc1.managedFiles == [ManagedFile(path: "/etc/sysconfig/memcached", contents: "PORT=11211\nOPTIONS=\"-l 10.180.0.5 -v\"\n")])
        #expect(overridden.map(\.phpIniSettings) == bundled.map(\.phpIniSettings))
        #expect(overridden.map(\.firewallRules) == bundled.map(\.firewallRules))
    }

    @Test func firewallOverrideChangesTheRules() throws {
        let set = try TemplateSet(texts: [.firewallWeb: """
            -A {{firewallChain}} -p tcp -m tcp --dport 8080 -j ACCEPT
            -A {{firewallChain}}   -p tcp -m tcp --dport {{sshPort}} -j DROP
            """])
        let web2 = try #require(try Renderer(templates: set).render(Self.exampleInventory()).first { $0.host.name == "web2" })
        #expect(web2.firewallRules == FirewallRuleSet(chain: "CLUSTERCTL", rules: [
            "-A CLUSTERCTL -p tcp -m tcp --dport 8080 -j ACCEPT",
            "-A CLUSTERCTL -p tcp -m tcp --dport 2222 -j DROP",
        ]))
    }

    @Test func misspeltOverrideFileIsAnError() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("memcached.sysconf.mustache")
        try "x\n".write(to: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: TemplateError.self) { try TemplateSet(overridesDirectory: directory.path) }
        #expect(error.file == path.path)
        #expect(error.message == "not a template clusterctl renders; did you mean \"memcached.sysconfig.mustache\"?")
    }

    @Test func missingOverridesDirectoryIsAnError() {
        let error = #expect(throws: TemplateError.self) { try TemplateSet(overridesDirectory: "/nonexistent/clusterctl-templates") }
        #expect(error?.description == "/nonexistent/clusterctl-templates: templates directory does not exist")
    }

    @Test(arguments: [
        ("PORT={{memcachedPort}}\n{{#extraOptions}}\n{{option}}\n{{/extraOption}}\n", 4,
         "template does not parse: a section is closed with a different name than it was opened with"),
        ("PORT={{memcachedPort}}\n\n{{#isWeb}}x\n", 4, "template does not parse: a section is never closed (missing {{/name}})"),
        ("PORT={{memcachedPort}}\nCACHESIZE={{cachesizeMB}}\n", 2,
         "unknown variable \"cachesizeMB\"; did you mean \"cacheSizeMB\"?"),
        ("{{! comment\nspanning lines }}\n{{#memcacheServers}}{{url}} {{hostname}}{{/memcacheServers}}\n", 3,
         "unknown variable \"hostname\"; did you mean \"hostName\"?"),
        ("{{#webHosts}}\n{{source}}\n{{/webHosts}}\n", 2,
         "unknown variable \"source\"; available here: address, cacheSizeMB, extraOptions, firewallChain, hostName, isMemcache, isWeb, maxConnections, memcacheServers, memcachedPort, memcachedSources, memcachedUser, name, osFamily, privateAddress, savePath, sessionHandler, sessionRedundancy, sessionRedundancySettings, sshPort, webHosts"),
        ("{{=<% %>=}}\nA=<% memcachedPort %>\nB=<% nope %>\n", 3,
         "unknown variable \"nope\"; available here: address, cacheSizeMB, extraOptions, firewallChain, hostName, isMemcache, isWeb, maxConnections, memcacheServers, memcachedPort, memcachedSources, memcachedUser, osFamily, privateAddress, savePath, sessionHandler, sessionRedundancy, sessionRedundancySettings, sshPort, webHosts"),
        ("x\n{{> other}}\n", 2, "partials and template inheritance are not supported ({{> other}})"),
        ("{{^first()}}, {{/first()}}\n", 1, "\"first()\" is only meaningful inside a list section"),
    ])
    func brokenTemplateFailsWithFileAndLine(text: String, line: Int, message: String) {
        let error = #expect(throws: TemplateError.self) { try TemplateSet(texts: [.memcachedSysconfig: text]) }
        #expect(error?.file == "memcached.sysconfig.mustache")
        #expect(error?.line == line)
        #expect(error?.message == message)
    }

    @Test func brokenOverrideFileIsNamedByItsPath() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("php-session.ini.mustache")
        try "session.save_handler = {{sessionHandler}}\nsession.save_path = \"{{save_path}}\"\n"
            .write(to: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: TemplateError.self) { try TemplateSet(overridesDirectory: directory.path) }
        #expect(error.description == "\(path.path):2: unknown variable \"save_path\"; did you mean \"savePath\"?")
    }

    @Test func sequenceTransformsAndDotAreAcceptedInsideLists() throws {
        let set = try TemplateSet(texts: [.phpSession: """
            session.save_handler = {{sessionHandler}}
            session.save_path = "{{#memcacheServers}}{{^first()}};{{/first()}}{{url}}{{/memcacheServers}}"
            """])
        let web1 = try #require(try Renderer(templates: set).render(Self.exampleInventory()).first { $0.host.name == "web1" })
        #expect(web1.phpIniSettings == [PHPIniSetting(key: "session.save_handler", value: "memcache"),
                                        PHPIniSetting(key: "session.save_path", value: "\"tcp://10.180.0.5:11211\"")])
    }

    @Test(arguments: [
        (TemplateName.phpSession, "session.save_handler = memcache\nnot an ini line\n",
         "output line 2 for host web1 is not \"key = value\": not an ini line"),
        (TemplateName.phpSession, "session.save_handler = memcache\n", "output for host web1 does not set session.save_path"),
        (TemplateName.firewallWeb, "-A INPUT -p tcp --dport 80 -j ACCEPT\n",
         "output line 1 for host web1 is not a rule of chain CLUSTERCTL (must start with \"-A CLUSTERCTL \"): -A INPUT -p tcp --dport 80 -j ACCEPT"),
        (TemplateName.firewallWeb, "-A {{firewallChain}} -j ACCEPT\n-A {{firewallChain}}  -j ACCEPT\n",
         "output for host web1 has the rule twice: -A CLUSTERCTL -j ACCEPT"),
    ])
    func malformedOutputFailsNamingTemplateAndHost(name: TemplateName, text: String, message: String) throws {
        let set = try TemplateSet(texts: [name: text])
        let error = #expect(throws: TemplateError.self) { try Renderer(templates: set).render(Self.exampleInventory()) }
        #expect(error?.file == name.rawValue)
        #expect(error?.message == message)
    }

    /// The README's variable table is the user's reference: it must list exactly what templates can use.
    @Test func readmeDocumentsEveryTemplateVariable() throws {
        let readme = try String(contentsOf: InventoryLoaderTests.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for variable in TemplateContext.variables {
            let kind: String
            switch variable.shape {
            case .value: kind = "value"
            case .flag: kind = "flag"
            case .list: kind = "list"
            }
            #expect(readme.contains("| `\(variable.name)` | \(kind) |"), "README lacks \(variable.name)")
        }
        let documented = readme.split(separator: "\n").filter { $0.hasPrefix("| `") && ($0.contains("` | value |")
            || $0.contains("` | flag |") || $0.contains("` | list |")) }
        #expect(documented.count == TemplateContext.variables.count)
    }
}
