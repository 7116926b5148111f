/// What `apply --serial` checks on a host before it moves on: a restarted web host serves PHP pages over HTTP
/// with the new session settings, a restarted memcached answers again. Both run on the host itself, over the
/// connection apply already has, against the host's private address (what the other hosts use).
public struct ServingCheck: Sendable {
    /// How long a restarted service may take to answer (Apache forks its workers after systemd says started).
    public var attempts = 15
    public var webPort = 80
    public var documentRoot = "/var/www/html"

    public init() {}

    /// The page's settings, compared with `expected`; nil when the host serves them.
    public func web(_ host: Host, family: OSFamily, session: PlanSession, transport: any HostTransport) async -> String? {
        let expected = Self.expectedSettings(session, family: family)
        guard !expected.isEmpty else { return nil }
        let page = "clusterctl-serial-\(Verifier.randomToken()).php"
        let path = "\(documentRoot)/\(page)"
        let ip = host.privateAddress.contains(":") ? "[\(host.privateAddress)]" : host.privateAddress
        let keys = expected.map(\.key).joined(separator: ",")
        let url = "http://\(ip)\(webPort == 80 ? "" : ":\(webPort)")/\(page)?keys=\(keys)"
        do {
            try await transport.upload(Array(Self.settingsPage.utf8), to: path, mode: 0o644)
        } catch {
            return "cannot write the check page \(path): \(error)"
        }
        let problem = await poll(url: url, ip: ip, expected: expected, transport: transport)
        _ = try? await transport.run("rm -f \(ShellQuote.quote(path))")
        return problem
    }

    private func poll(url: String, ip: String, expected: [(key: String, value: String)],
                      transport: any HostTransport) async -> String? {
        var last = "no answer"
        for attempt in 0..<attempts {
            if attempt > 0 { try? await Task.sleep(nanoseconds: 1_000_000_000) }
            guard let out = try? await transport.run("/bin/sh -s", stdin: Array(RemoteProbes.httpGet(url: url, sessionID: "clusterctlserial").utf8)).stdoutText,
                  let body = ProbeOutput.field("BODY", in: out) else {
                last = "HTTP on \(ip): no answer"
                continue
            }
            let served = Self.parse(body)
            // A key no loaded extension declares (the family's older extension) is not PHP's to report.
            let wrong = expected.filter { served.keys.contains($0.key) && served[$0.key] != $0.value }
            if wrong.isEmpty { return nil }
            last = "PHP over HTTP serves " + wrong.map { "\($0.key) = \"\(served[$0.key] ?? "")\" (expected \"\($0.value)\")" }
                .joined(separator: ", ")
        }
        return last
    }

    /// memcached answers `version` on the host's private address again.
    public func memcached(_ host: Host, port: Int, transport: any HostTransport) async -> String? {
        let script = RemoteProbes.memcachedProbe(targets: [(host.privateAddress, port)], command: "version")
        for attempt in 0..<attempts {
            if attempt > 0 { try? await Task.sleep(nanoseconds: 1_000_000_000) }
            if let out = try? await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText,
               let result = ProbeOutput.tcpResults(out).first, result.connected,
               result.lines.contains(where: { $0.hasPrefix("VERSION") }) {
                return nil
            }
        }
        return "memcached does not answer on \(host.privateAddress):\(port) after its restart"
    }

    /// save_handler and save_path as rendered, and the redundancy lines of the host's family's extension.
    static func expectedSettings(_ session: PlanSession, family: OSFamily) -> [(key: String, value: String)] {
        var expected = session.settings.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        if let name = session.settings["session.save_handler"], let handler = SessionHandler(rawValue: name) {
            expected += family.sessionExtension(handler).settings(copies: session.redundancy)
                .map { (key: $0.key, value: Self.iniValue($0.value)) }
        }
        return expected
    }

    /// How `ini_get` reports a value written in php.ini (booleans as "1", strings without quotes).
    static func iniValue(_ value: String) -> String {
        value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") ? String(value.dropFirst().dropLast()) : value
    }

    /// `k=v|k=v` from the page; a key PHP does not know is left out.
    static func parse(_ body: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in body.split(separator: "|") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    /// Prints the asked ini values as PHP serves them, on one line. PHP 5.1 compatible.
    static let settingsPage = """
        <?php
        // Written by `clusterctl apply --serial` to check a restarted web host; removed right after.
        $out = array();
        foreach (explode(",", $_GET["keys"]) as $k) { $v = ini_get($k); if ($v !== false) { $out[] = $k . "=" . $v; } }
        echo implode("|", $out);

        """
}
