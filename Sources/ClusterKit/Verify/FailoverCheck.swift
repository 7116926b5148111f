/// `verify --failover`: for each memcache host in turn, makes its memcached unreachable to the web hosts and
/// proves that sessions written before are still read on every web host and that new ones can be written,
/// then makes it reachable again.
///
/// "Unreachable" is a firewall rule on the memcache host, not a stopped memcached: stopping it would empty it
/// (memcached keeps nothing on disk), so the test itself would lose the sessions it is about, and a host that
/// is cut off but still running is the harder case for the extensions (they must notice, not be told). The
/// rule is `iptables -I INPUT 1 -s WEB/32 -p tcp --dport PORT -j REJECT --reject-with tcp-reset` per web host:
/// INPUT's first rule, so it wins over clusterctl's CLUSTERCTL chain and, on firewalld hosts, over firewalld's
/// own chains (iptables backend) or its nftables table (a reject in any base chain is final). REJECT rather than
/// DROP: a crashed memcached refuses connections, and DROP would make every PHP request wait for its connect
/// timeout. Works with EL5's iptables 1.3.5 (`-I`, `-D` by rule, no `-C`).
///
/// Always restored: before inserting the rules, a detached guard on the memcache host (`nohup sh -c 'sleep N;
/// iptables -D …'`) deletes them after `guardSeconds` even if clusterctl dies or the connection is cut, like the
/// firewall step's armed rollback; the normal path deletes them itself and kills the guard.
struct FailoverCheck: Sendable {
    let verifier: Verifier
    let sessions: HostConnections
    let phpInis: [String: String]
    /// Sessions written before each host is cut off: with one copy per session, roughly 1/(memcache hosts) of them
    /// live on the cut-off host, so with 12 the chance that none does (and a loss goes unseen) is 2^-12 for two.
    static let sessionsPerRound = 12
    static let guardSeconds = 120
    static let guardPidFile = "/var/lib/clusterctl/failover-guard.pid"

    private func phpIni(_ host: Host) -> String { phpInis[host.name] ?? OSFamilies.el5.servingPHPIni }

    func run() async -> [VerifyCheck] {
        let webs = verifier.inventory.webHosts.filter { sessions.transports[$0.name] != nil }
        let servers = verifier.inventory.memcacheHosts.filter { sessions.transports[$0.name] != nil }
        guard let writer = webs.first, !servers.isEmpty else {
            return [VerifyCheck(host: "-", check: "failover", passed: false,
                                detail: "needs a reachable web host and memcache host")]
        }
        var checks: [VerifyCheck] = []
        // One memcache host at a time: two cut off at once is not what redundancy promises to survive.
        for server in servers {
            checks += await round(cutting: server, webs: webs, writer: writer)
        }
        return checks
    }

    private func id(_ kind: String, _ server: Host, _ suffix: String) -> String {
        "clusterctlfailover\(kind)\(verifier.token)\(server.name.replacingOccurrences(of: "-", with: ""))x\(suffix)"
    }

    private func run(_ transport: any HostTransport, _ script: String) async throws -> String {
        try await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
    }

    private func round(cutting server: Host, webs: [Host], writer: Host) async -> [VerifyCheck] {
        let name = server.name
        let token = verifier.token
        let before = (0..<Self.sessionsPerRound).map { id("old", server, String($0)) }
        let newIDs = Dictionary(uniqueKeysWithValues: webs.map { ($0.name, id("new", server, $0.name.replacingOccurrences(of: "-", with: ""))) })
        guard let wt = sessions.transports[writer.name], let st = sessions.transports[name] else { return [] }
        var checks: [VerifyCheck] = []
        // 1. Sessions written while every server is up, read back once to be sure they are there.
        do {
            let script = before.map { RemoteProbes.sessionWrite(phpIni: phpIni(writer), id: $0, value: "\(token)-\($0)") }.joined()
                + RemoteProbes.sessionRead(phpIni: phpIni(writer), ids: before)
            let out = try await run(wt, script)
            let missing = before.filter { ProbeOutput.field("READ \($0)", in: out) != "\(token)-\($0)" }
            guard missing.isEmpty else {
                return [VerifyCheck(host: writer.name, check: "failover.sessions-written", passed: false,
                                    detail: "before cutting off \(name): \(missing.count) of \(before.count) sessions written "
                                        + "here cannot be read back with every server up")]
            }
        } catch {
            return [VerifyCheck(host: writer.name, check: "failover.sessions-written", passed: false, detail: "\(error)")]
        }
        // 2. Cut off, and prove it is.
        let sources = webs.map(\.privateAddress)
        let port = verifier.inventory.memcached.port
        do {
            let out = try await run(st, Self.cutOffScript(sources: sources, port: port, guardSeconds: Self.guardSeconds))
            guard out.contains("CUT") else {
                await restore(server)
                return [VerifyCheck(host: name, check: "failover.cut-off", passed: false,
                                    detail: "cannot make memcached unreachable: \(out.trimmingSpaces)")]
            }
        } catch {
            await restore(server)
            return [VerifyCheck(host: name, check: "failover.cut-off", passed: false, detail: "\(error)")]
        }
        let reachable = await reaches(writer, server)
        checks.append(VerifyCheck(host: name, check: "failover.cut-off", passed: !reachable,
                                  detail: reachable ? "memcached still answers \(writer.name) after the REJECT rules"
                                      : "memcached on \(server.privateAddress):\(port) is unreachable to the web hosts "
                                          + "(restored within \(Self.guardSeconds) s whatever happens)"))
        if !reachable {
            checks += await readsWhileCut(server, webs: webs, before: before)
            checks += await newSessionsWhileCut(server, webs: webs, ids: newIDs)
            // The guard must not have fired during the checks: they would have run against a reachable server.
            if await reaches(writer, server) {
                checks.append(VerifyCheck(host: name, check: "failover.cut-off", passed: false,
                                          detail: "memcached became reachable before the checks ended (guard fired?)"))
            }
        }
        // 3. Restore, prove it, clean up.
        await restore(server)
        let back = await reaches(writer, server)
        checks.append(VerifyCheck(host: name, check: "failover.restored", passed: back,
                                  detail: back ? "memcached on \(name) reachable again" : "memcached on \(name) still unreachable from \(writer.name)"))
        _ = try? await run(wt, RemoteProbes.sessionDestroy(phpIni: phpIni(writer), ids: before + newIDs.values.sorted()))
        return checks
    }

    /// Every web host reads every session written before; with one copy per session, those on `server` are lost.
    private func readsWhileCut(_ server: Host, webs: [Host], before: [String]) async -> [VerifyCheck] {
        let token = verifier.token
        let copies = verifier.inventory.php.sessionRedundancy
        return await sessions.forEach(webs) { web, transport in
            let out = try await run(transport, RemoteProbes.sessionRead(phpIni: phpIni(web), ids: before))
            let lost = before.filter { ProbeOutput.field("READ \($0)", in: out) != "\(token)-\($0)" }
            if lost.isEmpty {
                return [VerifyCheck(host: web.name, check: "failover.sessions-kept", passed: true,
                                    detail: "with \(server.name) unreachable, reads all \(before.count) sessions written before")]
            }
            return [VerifyCheck(
                host: web.name, check: "failover.sessions-kept", passed: false,
                detail: "with \(server.name) unreachable, \(lost.count) of \(before.count) sessions written before are lost: "
                    + "they were stored on \(server.name) with no other copy (php.sessionRedundancy \(copies)); "
                    + "lost: " + lost.map { $0.replacingOccurrences(of: "clusterctlfailoverold\(token)", with: "…") }.joined(separator: " "))]
        }
    }

    /// Each web host writes a new session, and the next one (a ring) reads it.
    private func newSessionsWhileCut(_ server: Host, webs: [Host], ids: [String: String]) async -> [VerifyCheck] {
        let token = verifier.token
        var checks = await sessions.forEach(webs) { web, transport in
            let out = try await run(transport, RemoteProbes.sessionWrite(phpIni: phpIni(web), id: ids[web.name]!,
                                                                        value: "\(token)-new-\(web.name)"))
            return out.contains("WROTE") ? [] : [VerifyCheck(
                host: web.name, check: "failover.new-session", passed: false,
                detail: "with \(server.name) unreachable, cannot write a session: \(out.trimmingSpaces)")]
        }
        let pairs = webs.enumerated().map { (writer: $0.element, reader: webs[($0.offset + 1) % webs.count]) }
        checks += await BoundedParallel.map(pairs, limit: HostConnections.parallelism) { pair -> VerifyCheck in
            guard let rt = sessions.transports[pair.reader.name] else {
                return VerifyCheck(host: pair.reader.name, check: "failover.new-session", passed: false, detail: "not connected")
            }
            let id = ids[pair.writer.name]!
            let expected = "\(token)-new-\(pair.writer.name)"
            let got = (try? await run(rt, RemoteProbes.sessionRead(phpIni: phpIni(pair.reader), ids: [id])))
                .flatMap { ProbeOutput.field("READ \(id)", in: $0) } ?? ""
            return VerifyCheck(host: pair.writer.name, check: "failover.new-session", passed: got == expected,
                               detail: got == expected
                                ? "with \(server.name) unreachable, a new session written here is read on \(pair.reader.name)"
                                : "with \(server.name) unreachable, a new session written here is not read on \(pair.reader.name)")
        }
        return checks
    }

    /// memcached on `server` answers `version` to `from`.
    private func reaches(_ from: Host, _ server: Host) async -> Bool {
        guard let transport = sessions.transports[from.name] else { return false }
        let script = RemoteProbes.memcachedProbe(targets: [(server.privateAddress, verifier.inventory.memcached.port)],
                                                 command: "version")
        guard let out = try? await run(transport, script), let r = ProbeOutput.tcpResults(out).first else { return false }
        return r.connected && r.lines.contains { $0.hasPrefix("VERSION") }
    }

    private func restore(_ server: Host) async {
        guard let transport = sessions.transports[server.name] else { return }
        let sources = verifier.inventory.webHosts.map(\.privateAddress)
        _ = try? await run(transport, Self.restoreScript(sources: sources, port: verifier.inventory.memcached.port))
    }

    static func rule(_ source: String, port: Int) -> String {
        "INPUT -s \(ShellQuote.quote(source + "/32")) -p tcp --dport \(port) -j REJECT --reject-with tcp-reset"
    }

    /// Deletes every copy of the rules (a run killed between insert and delete may have left one).
    static func deleteRules(sources: [String], port: Int) -> String {
        sources.map { "while iptables -D \(rule($0, port: port)) 2>/dev/null; do :; done" }.joined(separator: "; ")
    }

    /// Arms the guard, then inserts the rules; prints `CUT` when they are in.
    static func cutOffScript(sources: [String], port: Int, guardSeconds: Int) -> String {
        let delete = deleteRules(sources: sources, port: port)
        let pidFile = ShellQuote.quote(guardPidFile)
        var script = """
            mkdir -p /var/lib/clusterctl || exit 1
            nohup sh -c \(ShellQuote.quote("sleep \(guardSeconds); \(delete); rm -f \(pidFile)")) >/dev/null 2>&1 </dev/null &
            echo $! > \(pidFile)

            """
        for source in sources {
            script += "iptables -I \(rule(source, port: port).replacingOccurrences(of: "INPUT ", with: "INPUT 1 ")) || { echo \"FAIL iptables\"; \(delete); exit 1; }\n"
        }
        return script + "echo CUT\n"
    }

    /// Disarms the guard and deletes the rules.
    static func restoreScript(sources: [String], port: Int) -> String {
        let pidFile = ShellQuote.quote(guardPidFile)
        return """
            if [ -f \(pidFile) ]; then kill "$(cat \(pidFile))" 2>/dev/null; rm -f \(pidFile); fi
            \(deleteRules(sources: sources, port: port))
            echo RESTORED

            """
    }
}
