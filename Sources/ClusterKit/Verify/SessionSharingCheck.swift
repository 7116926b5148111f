/// Proves the web hosts share PHP sessions: a session written on each web host is read back, with its value,
/// on the next web host of a ring — once through the host's PHP CLI and php.ini, once over HTTP through a test
/// page — and every web host places sessions the same way (one session configuration, `sameServersCheck`), so
/// any host reads what any other wrote. The sessions and pages it creates are removed afterwards, whatever the
/// outcome.
///
/// Two rounds of one command per web host, all hosts at once: (1) put the test page, write the CLI session
/// (reporting the session configuration) and set the HTTP session through the host's own page; (2) read the
/// predecessor's CLI session, get its HTTP session through the host's own page, destroy both, remove the page.
/// A ring, not every pair: the memcached a session lands on depends only on its id and the configuration, so
/// one neighbour per host proves the sharing and verify stays linear in hosts (every pair made 101 hosts read
/// 10,100 sessions).
struct SessionSharingCheck: Sendable {
    let verifier: Verifier
    let sessions: HostConnections
    /// Each web host's php.ini (`Verifier.servingPHPInis`).
    let phpInis: [String: String]

    private func phpIni(_ host: Host) -> String { phpInis[host.name] ?? OSFamilies.el5.servingPHPIni }
    private var pageName: String { "clusterctl-verify-\(verifier.token).php" }
    private var pagePath: String { "\(verifier.paths.documentRoot)/\(pageName)" }
    /// Separates the CLI part of a round's output from the HTTP part.
    private static let httpSection = "clusterctl-verify-http"

    func run() async -> [VerifyCheck] {
        let webs = verifier.inventory.webHosts.filter { sessions.transports[$0.name] != nil }
        guard !webs.isEmpty else { return [] }
        // Each host reads what its predecessor wrote (itself when it is the only one).
        let writers = Dictionary(uniqueKeysWithValues: webs.indices.map {
            (webs[$0].name, webs[($0 + webs.count - 1) % webs.count])
        })
        let firsts = await BoundedParallel.map(webs, limit: HostConnections.parallelism) { await write($0) }
        var checks = firsts.flatMap(\.checks)
        let placement = Self.sameServersCheck(firsts.map(\.written))
        checks += placement
        let set = Dictionary(uniqueKeysWithValues: firsts.map { ($0.written.host, $0.httpSet) })
        let seconds = await BoundedParallel.map(webs, limit: HostConnections.parallelism) { reader in
            await read(reader, writer: writers[reader.name]!, writerSetHTTP: set[writer: writers[reader.name]!])
        }
        checks += seconds.flatMap(\.checks)
        // A reader that could not finish leaves its predecessor's sessions and its own page; hosts placing
        // sessions differently may not have reached each other's: each such writer cleans up after itself.
        let unfinished = Set(seconds.filter { !$0.finished }.map(\.host))
        let orphaned = Set(unfinished.compactMap { writers[$0]?.name })
        let cleanAll = placement.contains { !$0.passed }
        let cleanup = webs.filter { cleanAll || unfinished.contains($0.name) || orphaned.contains($0.name) }
        _ = await sessions.forEach(cleanup) { host, transport in
            let script = RemoteProbes.sessionDestroy(phpIni: phpIni(host), ids: [sessionID("cli", host), sessionID("http", host)])
                + "rm -f \(ShellQuote.quote(pagePath))\n"
            _ = try await transport.run("/bin/sh -s", stdin: Array(script.utf8))
            return []
        }
        return checks
    }

    private func sessionID(_ kind: String, _ host: Host) -> String {
        // PHP accepts [a-zA-Z0-9,-] in session ids; the token is hex and host names are labels.
        "clusterctlverify\(kind)\(verifier.token)\(host.name.replacingOccurrences(of: "-", with: ""))"
    }

    private func value(_ writer: Host) -> String { "\(verifier.token)-\(writer.name)" }

    private func url(_ host: Host, _ query: String) -> String {
        let ip = host.privateAddress.contains(":") ? "[\(host.privateAddress)]" : host.privateAddress
        let port = verifier.paths.webPort == 80 ? "" : ":\(verifier.paths.webPort)"
        return "http://\(ip)\(port)/\(pageName)\(query)"
    }

    private func split(_ output: String) -> (cli: String, http: String) {
        guard let range = output.range(of: Self.httpSection + "\n") else { return (output, "") }
        return (String(output[..<range.lowerBound]), String(output[range.upperBound...]))
    }

    /// The test page's answer: `BODY …` or why there is none.
    private func httpAnswer(_ output: String) -> Result<String, HTTPProbeError> {
        if let body = ProbeOutput.field("BODY", in: output) { return .success(body) }
        return .failure(HTTPProbeError(message: ProbeOutput.field("FAIL", in: output) ?? output.trimmingSpaces))
    }

    struct HTTPProbeError: Error, CustomStringConvertible {
        var message: String
        var description: String { message.isEmpty ? "no answer" : message }
    }

    struct WriteResult: Sendable {
        var host: String
        var output: String
        var error: String?
    }

    private struct FirstRound: Sendable {
        var written: WriteResult
        /// Whether the HTTP session was set through the host's page (its reader then gets it).
        var httpSet: Bool
        var checks: [VerifyCheck]
    }

    /// Round 1 on `host`: the page, the CLI session, the HTTP session.
    private func write(_ host: Host) async -> FirstRound {
        let transport = sessions.transports[host.name]!
        var checks: [VerifyCheck] = []
        func pageFails(_ why: String) -> VerifyCheck {
            VerifyCheck(host: host.name, check: "http.session-shared", passed: false,
                        detail: "HTTP test page on port \(verifier.paths.webPort) does not answer: \(why)")
        }
        var script = RemoteProbes.sessionWrite(phpIni: phpIni(host), id: sessionID("cli", host), value: value(host))
        var pagePut = true
        do {
            try await transport.upload(Array(RemoteProbes.sessionTestPage.utf8), to: pagePath, mode: 0o644)
            script += "echo \(Self.httpSection)\n"
                + RemoteProbes.httpGet(url: url(host, "?set=\(value(host))"), sessionID: sessionID("http", host))
        } catch {
            pagePut = false
            checks.append(pageFails("cannot put it in place: \(error)"))
        }
        let output: String
        do {
            output = try await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
        } catch {
            checks.append(VerifyCheck(host: host.name, check: "exec", passed: false, detail: "command failed: \(error)"))
            return FirstRound(written: WriteResult(host: host.name, output: "", error: "\(error)"), httpSet: false, checks: checks)
        }
        let (cli, http) = split(output)
        if !cli.contains("WROTE") {
            let out = cli.trimmingSpaces
            checks.append(VerifyCheck(host: host.name, check: "session.write", passed: false,
                                      detail: "cannot write a session through PHP: \(out.isEmpty ? "no output" : out)"))
        }
        var httpSet = false
        if pagePut {
            switch httpAnswer(http) {
            case .success: httpSet = true
            case .failure(let error): checks.append(pageFails("\(error)"))
            }
        }
        return FirstRound(written: WriteResult(host: host.name, output: cli), httpSet: httpSet, checks: checks)
    }

    private struct SecondRound: Sendable {
        var host: String
        var finished: Bool
        var checks: [VerifyCheck]
    }

    /// Round 2 on `reader`: the predecessor's sessions through PHP and through the page, then clean up.
    private func read(_ reader: Host, writer: Host, writerSetHTTP: Bool) async -> SecondRound {
        let transport = sessions.transports[reader.name]!
        let cliID = sessionID("cli", writer), httpID = sessionID("http", writer)
        // The page is asked first (kept in a variable) so that one PHP process then reads the CLI session and
        // destroys both; the report keeps its order: CLI part, then the HTTP section.
        var script = writerSetHTTP
            ? "cct_http=$(\(RemoteProbes.httpGet(url: url(reader, ""), sessionID: httpID).dropLast()))\n" : ""
        script += RemoteProbes.sessionRead(phpIni: phpIni(reader), ids: [cliID], thenDestroy: [cliID, httpID])
        if writerSetHTTP {
            script += "echo \(Self.httpSection)\nprintf '%s\\n' \"$cct_http\"\n"
        }
        script += "rm -f \(ShellQuote.quote(pagePath))\n"
        let output: String
        do {
            output = try await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
        } catch {
            return SecondRound(host: reader.name, finished: false, checks: [
                VerifyCheck(host: reader.name, check: "exec", passed: false, detail: "command failed: \(error)")])
        }
        let (cli, http) = split(output)
        let expected = value(writer)
        let got = ProbeOutput.field("READ \(cliID)", in: cli) ?? ""
        var checks = [VerifyCheck(
            host: reader.name, check: "session.shared", passed: got == expected,
            detail: got == expected ? "reads the session written on \(writer.name) through PHP (value \(got))"
                : "cannot read the session written on \(writer.name) through PHP: "
                    + (got.isEmpty ? "session is empty" : "value \(got), expected \(expected)"))]
        if writerSetHTTP {
            switch httpAnswer(http) {
            case .success(let body):
                let ok = body == "VALUE \(expected)"
                checks.append(VerifyCheck(
                    host: reader.name, check: "http.session-shared", passed: ok,
                    detail: ok ? "over HTTP reads the session set on \(writer.name) (value \(expected))"
                        : "over HTTP does not see the session set on \(writer.name): got \"\(body)\""))
            case .failure(let error):
                checks.append(VerifyCheck(host: reader.name, check: "http.session-shared", passed: false,
                                          detail: "HTTP test page on port \(verifier.paths.webPort) does not answer: \(error)"))
            }
        }
        return SecondRound(host: reader.name, finished: true, checks: checks)
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
}

private extension Dictionary where Key == String, Value == Bool {
    subscript(writer writer: Host) -> Bool { self[writer.name] ?? false }
}
