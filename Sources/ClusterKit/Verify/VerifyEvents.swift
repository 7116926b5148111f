/// What a verify run is doing, as it happens: the CLI turns these into live lines on a terminal, timestamped
/// lines elsewhere, or `check` events (JSON). Verify runs in phases (connect, memcached, reachability, php,
/// sessions), each on many hosts at once; every check of the final report is sent in exactly one `checked`.
public enum VerifyEvent: Sendable, Equatable {
    /// A phase starts on `host` (`what`: `connect`, `memcached`, `reachability`, `php`, `sessions`, and `failover`
    /// with `verify --failover`).
    case checking(host: String, what: String)
    /// The phase is over for `host`, with the checks it produced there (possibly none).
    case checked(host: String, what: String, checks: [VerifyCheck], seconds: Double)

    public var host: String {
        switch self {
        case .checking(let host, _), .checked(let host, _, _, _): return host
        }
    }
}

/// Receives verify events from several tasks at once: implementations must be thread-safe and quick.
public typealias VerifyEventSink = @Sendable (VerifyEvent) -> Void

extension Verifier {
    /// Runs one phase on `hosts`, telling `events` when it starts and, per host, what it found. Checks about a
    /// host outside `hosts` (none today) are reported under that host too, so none is left out of the stream.
    func phase(_ what: String, on hosts: [String],
               _ body: () async -> [VerifyCheck]) async -> [VerifyCheck] {
        for host in hosts { events(.checking(host: host, what: what)) }
        let start = ContinuousClock.now
        let checks = await body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var order = hosts
        for check in checks where !order.contains(check.host) { order.append(check.host) }
        for host in order {
            events(.checked(host: host, what: what, checks: checks.filter { $0.host == host }, seconds: seconds))
        }
        return checks
    }
}
