/// One authenticated SSH connection to one host, with its own OS thread (see `ConnectionThread`).
/// Calls from many tasks are safe: they run one after another on that thread.
public final class SSHConnection: Sendable {
    public let config: SSHClientConfig
    private let thread: ConnectionThread
    private let state: LibSSH2Session
    /// The hold on the shared connection to the last jump host, while this connection goes through it.
    private let jumpLease: BastionLease?

    private init(config: SSHClientConfig, thread: ConnectionThread, state: LibSSH2Session, jumpLease: BastionLease?) {
        self.config = config
        self.thread = thread
        self.state = state
        self.jumpLease = jumpLease
    }

    /// Connects (TCP, or a channel through `config.jumpHosts`; handshake), checks the host key against
    /// known_hosts and authenticates.
    public static func connect(_ config: SSHClientConfig) async throws -> SSHConnection {
        var lease: BastionLease?
        var socket: Int32?
        // A shared jump host connection that died while nobody used it is only noticed when a channel is
        // opened; then the pool hands out a fresh one, once.
        for attempt in 0..<(config.jumpHosts.isEmpty ? 0 : 2) {
            do {
                let acquired = try await BastionPool.shared.acquire(config.jumpHosts.map(config.forJumpHost))
                lease = acquired
                socket = try await acquired.connection.openForward(host: config.host, port: config.port,
                                                                   timeout: config.connectTimeout)
                break
            } catch {
                let died = lease?.connection.brokenReason != nil
                await lease?.release()
                lease = nil
                if !(died && attempt == 0) { throw jumpError(error, config) }
            }
        }
        let state = LibSSH2Session(config: config)
        let thread = ConnectionThread(name: "ssh \(config.host):\(config.port)",
                                      idleInterval: Double(config.keepaliveInterval)) { [weak state] in
            state?.sendIdleKeepalive()
        }
        do {
            try await thread.run { [socket] in
                try state.open(over: socket)
                try state.checkHostKey()
                try state.authenticate()
            }
        } catch {
            try? await thread.run { state.disconnect() }
            thread.stop()
            await lease?.release()
            throw error
        }
        return SSHConnection(config: config, thread: thread, state: state, jumpLease: lease)
    }

    /// A jump host's failure, told as this host's (the caller asked for this host), naming the jump host.
    private static func jumpError(_ error: Error, _ config: SSHClientConfig) -> Error {
        guard let inner = error as? SSHError else { return error }
        return SSHError(host: config.host, port: config.port, step: inner.step,
                        message: "via jump host \(inner.host):\(inner.port): \(inner.message)")
    }

    /// Runs `command` (with the server's `sh -c` semantics), feeding `stdin`. `timeout` (or the config's
    /// `commandTimeout`) bounds the whole command; on expiry an `exec` error is thrown.
    public func exec(_ command: String, stdin: [UInt8] = [], timeout: Double? = nil) async throws -> SSHExecResult {
        let limit = timeout ?? config.commandTimeout
        let state = self.state
        return try await run(.exec) { try state.exec(command, stdin: stdin, timeout: limit) }
    }

    /// Writes `data` to `path` (created or truncated) and sets its permission bits to `mode`.
    public func upload(_ data: [UInt8], to path: String, mode: Int32) async throws {
        let state = self.state
        try await run(.upload) { try state.upload(data, to: path, mode: mode) }
    }

    /// Disconnects and ends the connection's thread. Later calls throw.
    public func close() async {
        let state = self.state
        try? await thread.run { state.disconnect() }
        thread.stop()
        await jumpLease?.release()
    }

    /// How the last upload went: "sftp" or "scp" (for tests of the SCP fallback).
    var lastUploadMethod: String? {
        get async { try? await thread.run { [state] in state.lastUploadMethod } ?? nil }
    }

    private func run<T: Sendable>(_ step: SSHError.Step, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await thread.run(body)
        } catch is CancellationError {
            throw SSHError(host: config.host, port: config.port, step: step, message: "connection is closed")
        }
    }

    deinit {
        let state = self.state
        let thread = self.thread
        let lease = jumpLease
        // Not closed explicitly: disconnect on the connection's own thread, then let the thread end.
        Task.detached {
            try? await thread.run { state.disconnect() }
            thread.stop()
            await lease?.release()
        }
    }
}
