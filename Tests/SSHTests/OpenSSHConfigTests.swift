import Foundation
import Testing
@testable import SSH

/// The ~/.ssh/config reader, checked against OpenSSH's own resolution (`ssh -G -F FILE ALIAS`) on configs
/// shaped like real ones, and on what `ssh -G` cannot show (relative Includes, token expansion, the API).
@Suite("OpenSSH client config")
struct OpenSSHConfigTests {
    /// A dotfiles-style config: portability idioms, wildcards, negation, a Match block, a catch-all last.
    static let realWorld = """
        # ~/.ssh/config
        IgnoreUnknown UseKeychain
        Include /nonexistent/clusterctl/*.conf

        Host github.com
            HostName github.com
            User git
            IdentityFile ~/.ssh/id_ed25519_github
            IdentitiesOnly yes
            AddKeysToAgent yes
            UseKeychain yes

        Host bastion bastion.example.com
            HostName 203.0.113.10
            User ops
            Port 2222
            IdentityFile ~/.ssh/bastion_ed25519
            ServerAliveInterval 30

        Host 10.0.* !10.0.9.*
            ProxyJump bastion
            User admin

        Host web-* db-?
            HostName %h.prod.example.com
            ProxyJump bastion,ops@jump2.example.com:22022
            IdentityFile "~/.ssh/keys/prod %r.pem"

        Host legacy
            ProxyCommand none
            ProxyJump bastion

        Host direct
            ProxyJump none

        Match host *.corp exec "false"
            ProxyJump bastion

        Host=old.example.org
            Port = 2022
            User=legacy

        Host *
            ServerAliveInterval 60
            Port 22
            IdentityFile ~/.ssh/id_%u_%h
            UserKnownHostsFile ~/.ssh/known_hosts.d/%h-%p ~/.ssh/known_hosts
            SendEnv LANG LC_*
        """

    static let aliases = ["github.com", "bastion", "bastion.example.com", "10.0.1.5", "10.0.9.5", "web-1", "db-a",
                          "db-ab", "legacy", "direct", "x.corp", "old.example.org", "other"]

    @Test(arguments: aliases)
    func agreesWithOpenSSH(alias: String) throws {
        let directory = try makeTemporaryDirectory("clusterctl-sshconfig")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/config"
        try Self.realWorld.write(toFile: file, atomically: true, encoding: .utf8)
        let home = String(cString: getpwuid(geteuid()).pointee.pw_dir)
        let config = try OpenSSHConfig.load(path: file, homeDirectory: home)
        let ssh = try openSSHResolution(file: file, alias: alias)
        let entry = config.lookup(alias)
        let settings = try config.effectiveSettings(for: alias)
        #expect(ssh["hostname"] == [entry.hostName ?? alias])
        #expect(ssh["user"] == [settings.user])
        #expect(ssh["port"] == [String(settings.port)])
        if !entry.identityFiles.isEmpty { #expect(ssh["identityfile"] == entry.identityFiles) }
        #expect(ssh["proxyjump"]?.first == (entry.proxyJump == "none" ? nil : entry.proxyJump))
        if let files = entry.userKnownHostsFiles {
            let tokens = OpenSSHConfig.Tokens(home: home, host: settings.host, alias: alias, port: settings.port,
                                              user: settings.user)
            #expect(ssh["userknownhostsfile"]?.first?.split(separator: " ").map(String.init)
                == (try files.map { try config.expand($0, tokens, nil) }))
        }
        #expect(config.warnings.count == 1 && config.warnings[0].contains("Match host *.corp"))
    }

    @Test func effectiveSettingsResolveJumpHostsThroughTheConfig() throws {
        let config = OpenSSHConfig.parse(Self.realWorld, homeDirectory: "/home/me")
        let settings = try config.effectiveSettings(for: "web-1")
        let local = OpenSSHConfig.localUser
        #expect(settings.host == "web-1.prod.example.com")
        #expect(settings.port == 22 && settings.user == local)
        #expect(settings.identityFiles == ["/home/me/.ssh/keys/prod \(local).pem",
                                           "/home/me/.ssh/id_\(local)_web-1.prod.example.com"])
        #expect(settings.knownHostsFile == "/home/me/.ssh/known_hosts.d/web-1.prod.example.com-22")
        // "bastion" is an alias: its HostName, User, Port and key; jump2 keeps the user@ and :port given.
        #expect(settings.jumpHosts == [
            JumpHost(host: "203.0.113.10", port: 2222, user: "ops",
                     identityFiles: ["/home/me/.ssh/bastion_ed25519", "/home/me/.ssh/id_\(local)_203.0.113.10"]),
            JumpHost(host: "jump2.example.com", port: 22022, user: "ops",
                     identityFiles: ["/home/me/.ssh/id_\(local)_jump2.example.com"]),
        ])
        #expect(try config.effectiveSettings(for: "direct").jumpHosts.isEmpty)
        #expect(try config.effectiveSettings(for: "legacy").jumpHosts.isEmpty)
        #expect(try config.effectiveSettings(for: "10.0.9.1").jumpHosts.isEmpty)
        #expect(try config.effectiveSettings(for: "10.0.1.1").jumpHosts.map(\.host) == ["203.0.113.10"])
    }

    @Test func explicitInventoryValuesWin() throws {
        let config = OpenSSHConfig.parse(Self.realWorld, homeDirectory: "/home/me")
        let explicit = SSHExplicitSettings(user: "root", port: 2200, identityFiles: ["/keys/ci"],
                                           knownHostsFile: "/state/known_hosts", jumpHosts: [])
        let settings = try config.effectiveSettings(for: "bastion", explicit: explicit)
        #expect(settings == SSHEffectiveSettings(host: "203.0.113.10", port: 2200, user: "root",
                                                 identityFiles: ["/keys/ci"], knownHostsFile: "/state/known_hosts",
                                                 jumpHosts: []))
        // Nothing in the config for it: defaults, with the engine's default user.
        let plain = try OpenSSHConfig.parse("", homeDirectory: "/home/me").effectiveSettings(for: "10.1.1.1", defaultUser: "root")
        #expect(plain == SSHEffectiveSettings(host: "10.1.1.1", port: 22, user: "root", identityFiles: [],
                                              knownHostsFile: "/home/me/.ssh/known_hosts", jumpHosts: []))
        var client = SSHClientConfig(host: "x", user: "y", knownHostsFile: "z")
        client.apply(settings)
        #expect(client.host == "203.0.113.10" && client.port == 2200 && client.knownHostsFile == "/state/known_hosts")
    }

    @Test func includesAreGlobsRelativeToDotSSHAndKeepTheirOwnHostBlocks() throws {
        let home = try makeTemporaryDirectory("clusterctl-home")
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/.ssh/config.d", withIntermediateDirectories: true)
        try "Host b\n  User from-b\nHost *\n  Port 2201\n".write(toFile: home + "/.ssh/config.d/20-b.conf", atomically: true, encoding: .utf8)
        // Lines before any Host in an included file apply wherever the Include applies.
        try "User from-a\nHost c\n  User from-c\n".write(toFile: home + "/.ssh/config.d/10-a.conf", atomically: true, encoding: .utf8)
        try "Host c\n  HostName c.inner\n".write(toFile: home + "/.ssh/conditional", atomically: true, encoding: .utf8)
        try """
            Host only-c
              Include conditional
            Host *
              Include config.d/*.conf ~/.ssh/missing-*
              User fallback
            """.write(toFile: home + "/.ssh/config", atomically: true, encoding: .utf8)
        let config = try OpenSSHConfig.load(homeDirectory: home)
        #expect(config.lookup("b").user == "from-a")  // 10-a.conf comes first
        #expect(config.lookup("b").port == 2201)
        #expect(config.lookup("c").user == "from-a")
        // "Include conditional" sits under Host only-c: its Host c block must not apply to c.
        #expect(config.lookup("c").hostName == nil)
        #expect(config.lookup("only-c").hostName == nil)
        #expect(config.warnings.isEmpty)
    }

    @Test func syntaxVariantsAndUnknownDirectives() throws {
        let text = """
            host  Alpha\tbeta   # trailing comment
            \tHOSTNAME=alpha.example.com
            \tport =2022
            \tIdentityFile "/keys/a b"
            \tIdentityFile /keys/c
            \tIdentityFile /keys/c
            \tFrobnicate yes please
            \tPort 9999
            \tProxyJump "admin@[fd00::1]:2200"
            """
        let config = OpenSSHConfig.parse(text, homeDirectory: "/h")
        let entry = config.lookup("ALPHA")
        #expect(entry.hostName == "alpha.example.com")
        #expect(entry.port == 2022)
        #expect(entry.identityFiles == ["/keys/a b", "/keys/c"])
        #expect(try config.effectiveSettings(for: "beta").jumpHosts == [JumpHost(host: "fd00::1", port: 2200, user: "admin")])
        #expect(config.lookup("gamma") == OpenSSHHostEntry())
    }

    @Test func unsupportedThingsAreClearErrors() throws {
        let config = OpenSSHConfig.parse("""
            Host pc
              ProxyCommand ssh -W %h:%p gw
            Host hash
              IdentityFile ~/.ssh/%C
            Host loop
              ProxyJump loop
            Host bad
              ProxyJump a:b:c:d@
            """, file: "cfg", homeDirectory: "/h")
        #expect { try config.effectiveSettings(for: "pc") } throws: { "\($0)".contains("cfg:2: ProxyCommand") }
        #expect(try config.effectiveSettings(for: "pc", explicit: SSHExplicitSettings(jumpHosts: [])).jumpHosts == [])
        #expect { try config.effectiveSettings(for: "hash") } throws: { "\($0)".contains("token %C is not supported") }
        #expect { try config.effectiveSettings(for: "loop") } throws: { "\($0)".contains("too long") }
        #expect { try config.effectiveSettings(for: "bad") } throws: { "\($0)".contains("cfg:8: ProxyJump") }
    }
}

/// `ssh -G -F file alias`, as keyword -> values (a keyword may repeat, e.g. identityfile).
private func openSSHResolution(file: String, alias: String) throws -> [String: [String]] {
    let output = try runTool("/usr/bin/ssh", ["-G", "-F", file, alias]).stdout
    var result: [String: [String]] = [:]
    for line in output.split(separator: "\n") {
        guard let space = line.firstIndex(of: " ") else { continue }
        result[String(line[..<space]), default: []].append(String(line[line.index(after: space)...]))
    }
    return result
}
