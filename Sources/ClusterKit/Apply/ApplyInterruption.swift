import Foundation

/// A request to stop an apply early (the CLI's first Ctrl-C or SIGTERM): no new step starts on any host,
/// steps already running finish, every host still releases its run lock and writes its journal, and the
/// recap lists what did not run. Set from a signal handler's queue, read by the hosts' tasks: a lock, not an
/// actor, so checking it never suspends.
public final class ApplyInterruption: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    public init() {}

    public func request() { lock.withLock { requested = true } }

    public var isRequested: Bool { lock.withLock { requested } }
}
