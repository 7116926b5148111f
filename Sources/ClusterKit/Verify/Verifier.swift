/// `clusterctl verify`: proves, over SSH only, that the live cluster does its job.
///
/// Every check runs on a cluster host (the operator's machine may not reach the private network): memcached
/// answers on its private address, web hosts reach it and everyone else does not, PHP loads the right extension
/// with the expected session settings, every web host places sessions alike, and a session written on each web
/// host is read on the next one (`SessionSharingCheck`), from the CLI and over HTTP. Everything verify creates
/// (sessions, test pages) is removed afterwards.
public struct Verifier: Sendable {
    /// What PHP must report on a web host (`ini_get` values, i.e. without the ini file's quotes).
    public struct ExpectedSession: Sendable, Equatable {
        public var handler: String
        public var savePath: String
        public init(handler: String, savePath: String) {
            self.handler = handler
            self.savePath = savePath
        }
    }

    /// Host paths. The php.ini is each web host's family's (`OSFamily.servingPHPIni`) unless `phpIni` names
    /// one for every host (tests of the probes on this machine).
    public struct Paths: Sendable {
        public var phpIni: String?
        public var documentRoot = "/var/www/html"
        /// Where httpd serves the document root on each web host's private address.
        public var webPort = 80
        public init() {}
    }

    let inventory: Inventory
    let expected: ExpectedSession
    let paths: Paths
    let connect: HostConnector
    /// Distinguishes this run's sessions and pages from any other run's.
    let token: String
    /// Progress, phase by phase and host by host (see `VerifyEvent`); none by default.
    let events: VerifyEventSink
    /// Also cut each memcache host off in turn and check that sessions survive (`FailoverCheck`).
    public var failover = false

    public init(inventory: Inventory, expected: ExpectedSession, paths: Paths = Paths(),
                token: String = Verifier.randomToken(), connect: @escaping HostConnector,
                events: @escaping VerifyEventSink = { _ in }) {
        self.inventory = inventory
        self.expected = expected
        self.paths = paths
        self.token = token
        self.connect = connect
        self.events = events
    }

    /// The session settings PHP must report, from what clusterctl renders for the web hosts (so a template
    /// override is honoured); nil when the inventory has no web host.
    public static func expectedSession(from renderings: [HostRendering]) -> ExpectedSession? {
        guard let web = renderings.first(where: { $0.host.roles.contains(.web) }) else { return nil }
        func value(_ key: String) -> String {
            let raw = web.phpIniSettings.first { $0.key == key }?.value ?? ""
            // php.ini values may be double-quoted; ini_get reports them without the quotes.
            return raw.count >= 2 && raw.hasPrefix("\"") && raw.hasSuffix("\"") ? String(raw.dropFirst().dropLast()) : raw
        }
        return ExpectedSession(handler: value("session.save_handler"), savePath: value("session.save_path"))
    }

    public static func randomToken() -> String {
        String(UInt64.random(in: 0..<UInt64.max), radix: 16)
    }

    public func run() async -> VerifyReport {
        let all = inventory.hosts.map(\.name)
        var sessions: HostConnections?
        var checks = await phase("connect", on: all) {
            let opened = await HostConnections.open(inventory.hosts, connect: connect)
            sessions = opened
            return opened.failures.map {
                VerifyCheck(host: $0.host, check: "ssh", passed: false, detail: "cannot connect: \($0.reason)")
            }
        }
        guard let sessions else { return VerifyReport(checks: checks) }
        let connected = all.filter { sessions.transports[$0] != nil }
        let memcache = inventory.memcacheHosts.map(\.name).filter(connected.contains)
        let web = inventory.webHosts.map(\.name).filter(connected.contains)
        checks += await phase("memcached", on: memcache) { await memcachedChecks(sessions) }
        checks += await phase("reachability", on: connected) { await reachabilityChecks(sessions) }
        var phpInis: [String: String] = [:]
        checks += await phase("php", on: web) {
            phpInis = await servingPHPInis(sessions)
            return await phpChecks(sessions, phpInis: phpInis)
        }
        checks += await phase("sessions", on: web) {
            await SessionSharingCheck(verifier: self, sessions: sessions, phpInis: phpInis).run()
        }
        if failover {
            checks += await phase("failover", on: memcache + web) {
                await FailoverCheck(verifier: self, sessions: sessions, phpInis: phpInis).run()
            }
        }
        await sessions.closeAll()
        return VerifyReport(checks: checks)
    }

    /// memcached is running and answers `stats` on its private address (checked from the host itself).
    func memcachedChecks(_ sessions: HostConnections) async -> [VerifyCheck] {
        let port = inventory.memcached.port
        return await sessions.forEach(inventory.memcacheHosts) { host, transport in
            let script = "if pidof memcached >/dev/null 2>&1 || pgrep -x memcached >/dev/null 2>&1; "
                + "then echo RUNNING yes; else echo RUNNING no; fi\n"
                + RemoteProbes.memcachedProbe(targets: [(host.privateAddress, port)], command: "stats")
            let output = try await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
            let running = ProbeOutput.field("RUNNING", in: output) == "yes"
            var checks = [VerifyCheck(host: host.name, check: "memcached.running", passed: running,
                                      detail: running ? "memcached is running" : "memcached is not running")]
            let where_ = "\(host.privateAddress):\(port)"
            guard let probe = ProbeOutput.tcpResults(output).first else {
                checks.append(VerifyCheck(host: host.name, check: "memcached.stats", passed: false,
                                          detail: "memcached probe printed nothing"))
                return checks
            }
            let stats = ProbeOutput.stats(probe.lines)
            if probe.connected, let version = stats["version"] {
                checks.append(VerifyCheck(
                    host: host.name, check: "memcached.stats", passed: true,
                    detail: "memcached answers stats on \(where_): version \(version), uptime \(stats["uptime"] ?? "?")s, "
                        + "\(stats["curr_connections"] ?? "?") current connections"))
            } else {
                let why = probe.failure ?? "no stats in the answer (\(probe.lines.first ?? "empty"))"
                checks.append(VerifyCheck(host: host.name, check: "memcached.stats", passed: false,
                                          detail: "memcached does not answer stats on \(where_): \(why)"))
            }
            return checks
        }
    }

    /// Web hosts reach every memcache host; every other host reaches none (but itself is not probed).
    func reachabilityChecks(_ sessions: HostConnections) async -> [VerifyCheck] {
        let port = inventory.memcached.port
        let memcacheHosts = inventory.memcacheHosts
        return await sessions.forEach(inventory.hosts) { host, transport in
            let isWeb = host.roles.contains(.web)
            let targets = memcacheHosts.filter { $0.name != host.name }
            guard !targets.isEmpty else { return [] }
            let script = RemoteProbes.memcachedProbe(
                targets: targets.map { ($0.privateAddress, port) }, command: "version")
            let results = ProbeOutput.tcpResults(try await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText)
            return targets.map { target in
                let where_ = "\(target.name) (\(target.privateAddress):\(port))"
                guard let r = results.first(where: { $0.ip == target.privateAddress }) else {
                    return VerifyCheck(host: host.name, check: "memcached.reachable", passed: false,
                                       detail: "probe of \(where_) printed nothing")
                }
                if r.noClient {
                    return VerifyCheck(host: host.name, check: "memcached.reachable", passed: false,
                                       detail: "cannot probe \(where_): \(r.failure ?? "")")
                }
                let answered = r.connected && r.lines.contains { $0.hasPrefix("VERSION") }
                if isWeb {
                    return VerifyCheck(host: host.name, check: "memcached.reachable", passed: answered,
                                       detail: answered ? "reaches memcached on \(where_)"
                                           : "cannot reach memcached on \(where_): \(r.failure ?? "no VERSION answer")")
                }
                return VerifyCheck(host: host.name, check: "memcached.blocked", passed: !r.connected,
                                   detail: r.connected ? "is not a web host but reaches memcached on \(where_)"
                                       : "cannot reach memcached on \(where_), as it should not (\(r.failure ?? ""))")
            }
        }
    }

    /// Each web host's php.ini of the PHP that serves pages, by host name: from its OS family, recognised the
    /// way the facts script does.
    func servingPHPInis(_ sessions: HostConnections) async -> [String: String] {
        let script = PlatformDetection.script(families: OSFamilies.all) + "\n"
        let forced = paths.phpIni
        let found = await BoundedParallel.map(inventory.webHosts, limit: HostConnections.parallelism) { host -> String in
            if let forced { return forced }
            // An unrecognised host is checked against EL's path; the PHP checks then say what is wrong.
            guard let transport = sessions.transports[host.name],
                  let output = try? await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText,
                  let key = ProbeOutput.field("family", in: output), let family = OSFamilies.named(key) else {
                return OSFamilies.el5.servingPHPIni
            }
            return family.servingPHPIni
        }
        return Dictionary(uniqueKeysWithValues: zip(inventory.webHosts.map(\.name), found))
    }

    /// The handler's extension is loaded and PHP's effective session settings are the expected ones.
    func phpChecks(_ sessions: HostConnections, phpInis: [String: String]) async -> [VerifyCheck] {
        let extensionName = inventory.php.sessionHandler.rawValue
        return await sessions.forEach(inventory.webHosts) { host, transport in
            let phpIni = phpInis[host.name] ?? OSFamilies.el5.servingPHPIni
            let script = RemoteProbes.phpSessionSettings(phpIni: phpIni, extensionName: extensionName)
            let result = try await transport.run("/bin/sh -s", stdin: Array(script.utf8))
            let out = result.stdoutText
            guard let ext = ProbeOutput.field("EXT", in: out) else {
                let why = (result.stderrText + out).trimmingSpaces.split(separator: "\n").first.map(String.init) ?? "no output"
                return [VerifyCheck(host: host.name, check: "php.extension", passed: false,
                                    detail: "cannot run php with \(phpIni): \(why)")]
            }
            let handler = ProbeOutput.field("HANDLER", in: out) ?? ""
            let path = ProbeOutput.field("PATH", in: out) ?? ""
            let settingsOK = handler == expected.handler && path == expected.savePath
            return [
                VerifyCheck(host: host.name, check: "php.extension", passed: ext == "yes",
                            detail: ext == "yes" ? "PHP loads the \(extensionName) extension"
                                : "PHP does not load the \(extensionName) extension"),
                VerifyCheck(host: host.name, check: "php.session-settings", passed: settingsOK,
                            detail: settingsOK
                                ? "session.save_handler = \(handler), session.save_path = \"\(path)\""
                                : "session.save_handler = \(handler), session.save_path = \"\(path)\"; expected "
                                    + "\(expected.handler) and \"\(expected.savePath)\""),
            ]
        }
    }
}
