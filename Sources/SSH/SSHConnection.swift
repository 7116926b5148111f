/// One authenticated SSH connection to one host, with its own OS thread (see `ConnectionThread`).
/// Calls from many tasks are safe: they run one after another on that thread.
public final class SSHConnection: Sendable {
    public let config: SSHClientConfig
    private let thread: ConnectionThread
    private let state: LibSSH2Session

    private init(config: SSHClientConfig, thread: ConnectionThread, state: LibSSH2Session) {
        self.config = config
        self.thread = thread
        self.state = state
    }

    /// Connects (TCP, handshake), checks the host key against known_hosts and authenticates.
    public static func connect(_ config: SSHClientConfig) async throws -> SSHConnection {
        let state = LibSSH2Session(config: config)
        let thread = ConnectionThread(name: "ssh \(config.host):\(config.port)",
                                      idleInterval: Double(config.keepaliveInterval)) { [weak state] in
            state?.sendIdleKeepalive()
        }
        do {
            try await thread.run {
                try state.open()
                try state.checkHostKey()
                try state.authenticate()
            }
        } catch {
            try? await thread.run { state.disconnect() }
            thread.stop()
            throw error
        }
        return SSHConnection(config: config, thread: thread, state: state)
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
        // Not closed explicitly: disconnect on the connection's own thread, then let the thread end.
        Task.detached { try? await thread.run { state.disconnect() }; thread.stop() }
    }
}
