import Foundation

/// An authenticated connection to a jump host, shared by every session reached through it. Its libssh2
/// session lives on its `ForwardingLoop` thread; sessions behind it get socketpair ends from `openForward`.
final class BastionConnection: Sendable {
    let config: SSHClientConfig
    private let loop: ForwardingLoop
    /// The lease on the hop before this one (nil for the first hop), given back when this one closes.
    private let parent: BastionLease?

    private init(config: SSHClientConfig, loop: ForwardingLoop, parent: BastionLease?) {
        self.config = config
        self.loop = loop
        self.parent = parent
    }

    /// Connects (directly, or through `parent`'s forward), checks the host key and authenticates exactly as
    /// for any other host. The blocking steps run on the loop's thread before it starts forwarding.
    static func connect(_ config: SSHClientConfig, through parent: BastionLease?) async throws -> BastionConnection {
        let state = LibSSH2Session(config: config)
        let loop = ForwardingLoop(session: state, name: "ssh jump \(config.host):\(config.port)")
        do {
            let socket = try await parent?.connection.openForward(host: config.host, port: config.port,
                                                                   timeout: config.connectTimeout)
            try await loop.run {
                try state.open(over: socket)
                try state.checkHostKey()
                try state.authenticate()
                loop.pumping = true
            }
        } catch {
            await loop.shutdown()
            throw error
        }
        return BastionConnection(config: config, loop: loop, parent: parent)
    }

    /// A connected socket (the local end of a socketpair) to `host`:`port` as the jump host reaches it.
    func openForward(host: String, port: Int, timeout: Double) async throws -> Int32 {
        do {
            return try await loop.openForward(host: host, port: port, timeout: timeout)
        } catch is CancellationError {
            throw SSHError(host: config.host, port: config.port, step: .connect, message: "connection is closed")
        }
    }

    /// Why this connection cannot forward any more (its session failed), or nil.
    var brokenReason: String? { loop.broken }

    func close() async {
        await loop.shutdown()
        await parent?.release()
    }
}

/// One user's hold on a shared `BastionConnection`; releasing twice is harmless.
final class BastionLease: @unchecked Sendable {
    let connection: BastionConnection
    private let pool: BastionPool
    private let id: UInt64
    private let lock = NSLock()
    private var released = false

    init(connection: BastionConnection, pool: BastionPool, id: UInt64) {
        self.connection = connection
        self.pool = pool
        self.id = id
    }

    func release() async {
        let first = lock.withLock {
            defer { released = true }
            return !released
        }
        if first { await pool.release(id) }
    }
}

/// The process's connections to jump hosts, reference-counted: every session through the same hops (with
/// the same credentials and known_hosts) shares one connection per hop, however many connect at once. The
/// last release closes it. A connection whose session failed is not handed out again.
actor BastionPool {
    static let shared = BastionPool()

    private struct Entry {
        let key: String
        let task: Task<BastionConnection, Error>
        var users = 0
        var connection: BastionConnection?
    }

    private var entries: [UInt64: Entry] = [:]
    /// The entry new users of a key get.
    private var current: [String: UInt64] = [:]
    private var nextID: UInt64 = 0

    /// Leases the connection to the last hop of `chain` (the configs of every hop, first first), connecting
    /// it, and through the earlier hops' leases, if nobody has yet.
    func acquire(_ chain: [SSHClientConfig]) async throws -> BastionLease {
        precondition(!chain.isEmpty)
        let key = chain.map(\.sharingKey).joined(separator: "\u{2}")
        if let id = current[key], entries[id]?.connection?.brokenReason != nil { current[key] = nil }
        let id: UInt64
        if let existing = current[key] {
            id = existing
        } else {
            nextID += 1
            id = nextID
            let task = Task { try await self.connect(chain) }
            entries[id] = Entry(key: key, task: task)
            current[key] = id
        }
        entries[id]!.users += 1
        let task = entries[id]!.task
        do {
            let connection = try await task.value
            entries[id]?.connection = connection
            return BastionLease(connection: connection, pool: self, id: id)
        } catch {
            // Later users must try again, not inherit this failure.
            if current[key] == id { current[key] = nil }
            await release(id)
            throw error
        }
    }

    private func connect(_ chain: [SSHClientConfig]) async throws -> BastionConnection {
        let parent = chain.count > 1 ? try await acquire(Array(chain.dropLast())) : nil
        do {
            return try await BastionConnection.connect(chain[chain.count - 1], through: parent)
        } catch {
            await parent?.release()
            throw error
        }
    }

    func release(_ id: UInt64) async {
        guard var entry = entries[id] else { return }
        entry.users -= 1
        guard entry.users <= 0 else {
            entries[id] = entry
            return
        }
        entries[id] = nil
        if current[entry.key] == id { current[entry.key] = nil }
        await entry.connection?.close()
    }

    /// How many jump host connections are open or being opened (for tests).
    var count: Int { entries.count }
}
