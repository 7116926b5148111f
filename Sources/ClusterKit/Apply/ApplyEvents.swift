import Foundation

/// What an apply is doing, as it happens: the CLI turns these into live lines on a terminal, timestamped lines
/// elsewhere, or newline-delimited JSON. ClusterKit only reports; it never formats or prints progress.
public enum ApplyEvent: Sendable, Equatable {
    /// The host got a slot and its apply begins (also for a host that then fails at once, e.g. not planned).
    case hostStarted(host: String)
    /// `step` names what runs, in the words failures use (`install memcached`, `write /etc/php.ini`).
    case stepStarted(host: String, step: String)
    case stepFinished(host: String, step: String, seconds: Double)
    /// The step that stopped this host; a `hostFinished` with status `failed` follows.
    case stepFailed(host: String, step: String, message: String)
    case hostFinished(HostOutcome)

    public var host: String {
        switch self {
        case .hostStarted(let host), .stepStarted(let host, _), .stepFinished(let host, _, _),
             .stepFailed(let host, _, _):
            return host
        case .hostFinished(let outcome):
            return outcome.host
        }
    }
}

/// Receives apply events, from several hosts' tasks at once: implementations must be thread-safe and quick
/// (a slow sink slows the apply down).
public typealias ApplyEventSink = @Sendable (ApplyEvent) -> Void
