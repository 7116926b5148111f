/// Proves the web hosts share PHP sessions: a session written on each web host is read back, with its value,
/// on the next web host of a ring — once through the host's PHP CLI and php.ini, once over HTTP through a test
/// page — and every web host places sessions the same way (one session configuration, `sameServersCheck`), so
/// any host reads what any other wrote. The sessions and pages it creates are removed afterwards, whatever the
/// outcome.
struct SessionSharingCheck: Sendable {
    let verifier: Verifier
    let sessions: HostConnections
    /// Each web host's php.ini (`Verifier.servingPHPInis`).
    let phpInis: [String: String]

    private func phpIni(_ host: Host) -> String { phpInis[host.name] ?? OSFamilies.el5.servingPHPIni }
    private var pageName: String { "clusterctl-verify-\(verifier.token).php" }

    func run() async -> [VerifyCheck] {
        let webs = verifier.inventory.webHosts.filter { sessions.transports[$0.name] != nil }
        guard !webs.isEmpty else { return [] }
        return await cliSharing(webs) + httpSharing(webs)
    }

    private func sessionID(_ kind: String, _ host: Host) -> String {
        // PHP accepts [a-zA-Z0-9,-] in session ids; the token is hex and host names are labels.
        "clusterctlverify\(kind)\(verifier.token)\(host.name.replacingOccurrences(of: "-", with: ""))"
    }

    /// The writer whose session `webs[index]` reads: its predecessor in a ring (itself when it is the only one).
    /// A ring, not every pair: with one server list on every host (`sameServersCheck`) the memcached a session
    /// lands on depends only on its id, so one neighbour per host proves the sharing and verify stays linear
    /// in hosts (every pair made 101 hosts read 10,100 sessions).
    private func writer(of index: Int, in webs: [Host]) -> Host {
        webs[(index + webs.count - 1) % webs.count]
    }

    private func cliSharing(_ webs: [Host]) async -> [VerifyCheck] {
        let phpInis = Dictionary(uniqueKeysWithValues: webs.map { ($0.name, phpIni($0)) })
        let token = verifier.token
        let ids = Dictionary(uniqueKeysWithValues: webs.map { ($0.name, sessionID("cli", $0)) })
        let written = await BoundedParallel.map(webs, limit: HostConnections.parallelism) { host -> WriteResult in
            guard let transport = sessions.transports[host.name] else { return WriteResult(host: host.name, output: "") }
            do {
                let out = try await transport.run("/bin/sh -s", stdin: Array(RemoteProbes.sessionWrite(
                    phpIni: phpInis[host.name]!, id: ids[host.name]!, value: "\(token)-\(host.name)").utf8)).stdoutText
                return WriteResult(host: host.name, output: out)
            } catch {
                return WriteResult(host: host.name, output: "", error: "command failed: \(error)")
            }
        }
        var checks = written.compactMap { result -> VerifyCheck? in
            if let error = result.error { return VerifyCheck(host: result.host, check: "exec", passed: false, detail: error) }
            let out = result.output.trimmingSpaces
            return result.output.contains("WROTE") ? nil : VerifyCheck(
                host: result.host, check: "session.write", passed: false,
                detail: "cannot write a session through PHP: \(out.isEmpty ? "no output" : out)")
        }
        checks += Self.sameServersCheck(written)
        let writers = Dictionary(uniqueKeysWithValues: webs.indices.map { (webs[$0].name, writer(of: $0, in: webs)) })
        checks += await sessions.forEach(webs) { reader, transport in
            let writer = writers[reader.name]!
            let id = ids[writer.name]!
            let out = try await transport.run("/bin/sh -s", stdin: Array(RemoteProbes.sessionRead(
                phpIni: phpInis[reader.name]!, ids: [id]).utf8)).stdoutText
            let expected = "\(token)-\(writer.name)"
            let got = ProbeOutput.field("READ \(id)", in: out) ?? ""
            return [VerifyCheck(
                host: reader.name, check: "session.shared", passed: got == expected,
                detail: got == expected ? "reads the session written on \(writer.name) through PHP (value \(got))"
                    : "cannot read the session written on \(writer.name) through PHP: "
                        + (got.isEmpty ? "session is empty" : "value \(got), expected \(expected)"))]
        }
        _ = await sessions.forEach(webs) { host, transport in
            _ = try await transport.run("/bin/sh -s", stdin: Array(RemoteProbes.sessionDestroy(
                phpIni: phpInis[host.name]!, ids: [ids[host.name]!]).utf8))
            return []
        }
        return checks
    }

    struct WriteResult: Sendable {
        var host: String
        var output: String
        var error: String?
    }

    /// One check: every web host that wrote its session reports the same session configuration (handler,
    /// server list, the extension's hashing): what lets the ring stand for every pair. Differing hosts fail,
    /// each named with what it has against what most hosts have.
    static func sameServersCheck(_ written: [WriteResult]) -> [VerifyCheck] {
        let configs = written.compactMap { result -> (host: String, config: String)? in
            let lines = result.output.split(separator: "\n").filter { $0.hasPrefix("CONF ") }.map { String($0.dropFirst(5)) }
            return lines.isEmpty ? nil : (result.host, lines.joined(separator: "; "))
        }
        guard let first = configs.first else { return [] }
        let counts = Dictionary(configs.map { ($0.config, 1) }, uniquingKeysWith: +)
        // The most common configuration; ties go to the first host's (a stable answer).
        let common = counts.max { $0.value < $1.value || ($0.value == $1.value && $1.key == first.config) }!.key
        let differing = configs.filter { $0.config != common }
        guard !differing.isEmpty else {
            return [VerifyCheck(host: first.host, check: "session.same-servers", passed: true,
                                detail: "all \(configs.count) web hosts have the same session configuration (\(common))")]
        }
        return differing.map {
            VerifyCheck(host: $0.host, check: "session.same-servers", passed: false,
                        detail: "session configuration differs from the other web hosts': \($0.config); "
                            + "\(counts[common]!) of \(configs.count) have \(common)")
        }
    }

    private func url(_ host: Host, _ query: String) -> String {
        let ip = host.privateAddress.contains(":") ? "[\(host.privateAddress)]" : host.privateAddress
        let port = verifier.paths.webPort == 80 ? "" : ":\(verifier.paths.webPort)"
        return "http://\(ip)\(port)/\(pageName)\(query)"
    }

    private func httpGet(_ transport: any HostTransport, _ url: String, _ id: String) async throws -> String {
        let out = try await transport.run("/bin/sh -s", stdin: Array(RemoteProbes.httpGet(url: url, sessionID: id).utf8)).stdoutText
        if let body = ProbeOutput.field("BODY", in: out) { return body }
        throw HTTPProbeError(message: ProbeOutput.field("FAIL", in: out) ?? out.trimmingSpaces)
    }

    struct HTTPProbeError: Error, CustomStringConvertible {
        var message: String
        var description: String { message.isEmpty ? "no answer" : message }
    }

    /// Sets a value through `writer`'s test page and reads it through `reader`'s, then destroys the session.
    private func httpPair(writer: Host, reader: Host) async -> VerifyCheck? {
        guard let wt = sessions.transports[writer.name], let rt = sessions.transports[reader.name] else { return nil }
        let id = sessionID("http", writer)
        let value = "\(verifier.token)-\(writer.name)"
        let check: VerifyCheck
        do {
            _ = try await httpGet(wt, url(writer, "?set=\(value)"), id)
            let body = try await httpGet(rt, url(reader, ""), id)
            let ok = body == "VALUE \(value)"
            check = VerifyCheck(
                host: reader.name, check: "http.session-shared", passed: ok,
                detail: ok ? "over HTTP reads the session set on \(writer.name) (value \(value))"
                    : "over HTTP does not see the session set on \(writer.name): got \"\(body)\"")
        } catch {
            check = VerifyCheck(host: writer.name, check: "http.session-shared", passed: false,
                                detail: "HTTP test page on port \(verifier.paths.webPort) does not answer: \(error)")
        }
        // Awaited before the pages are removed and the connections closed: verify leaves no session behind.
        _ = try? await httpGet(wt, url(writer, "?destroy=1"), id)
        return check
    }

    /// Sets a value through the test page on each web host and reads it through the next one (a ring).
    private func httpSharing(_ webs: [Host]) async -> [VerifyCheck] {
        let page = Array(RemoteProbes.sessionTestPage.utf8)
        let pagePath = "\(verifier.paths.documentRoot)/\(pageName)"
        var checks = await sessions.forEach(webs) { host, transport in
            try await transport.upload(page, to: pagePath, mode: 0o644)
            return []
        }
        // Each pair uses its own session id, so the pairs run in parallel.
        let pairs = webs.enumerated().map { (writer: $0.element, reader: webs[($0.offset + 1) % webs.count]) }
        checks += await BoundedParallel.map(pairs, limit: HostConnections.parallelism) { pair in
            await httpPair(writer: pair.writer, reader: pair.reader)
        }.compactMap { $0 }
        _ = await sessions.forEach(webs) { _, transport in
            _ = try await transport.run("rm -f \(ShellQuote.quote(pagePath))")
            return []
        }
        return checks
    }
}
