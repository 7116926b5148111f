/// How ClusterKit talks to one host. The SSH implementation (`SSHHostTransport`) and the in-memory fake used
/// by unit tests both conform; nothing above this protocol knows which one it has.
///
/// A transport is one connection: facts, file writes and service commands of one run all go through it.
public protocol HostTransport: Sendable {
    /// Runs `command` with `/bin/sh -c` semantics on the host (the SSH exec channel), feeding `stdin`.
    func run(_ command: String, stdin: [UInt8]) async throws -> CommandResult
    /// Writes `data` to `path` with `mode` (creating or truncating it).
    func upload(_ data: [UInt8], to path: String, mode: Int32) async throws
    func close() async
    /// The TCP port of the host's SSH server this connection reached (after ~/.ssh/config, through any jump
    /// host); nil when unknown. A firewall change that cannot match it needs no lock-out protection (`SSHSafety`).
    var sshPort: Int? { get }
}

extension HostTransport {
    public var sshPort: Int? { nil }

    public func run(_ command: String) async throws -> CommandResult {
        try await run(command, stdin: [])
    }
}

public struct CommandResult: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var exitStatus: Int32
    /// e.g. "KILL" when the remote command died of a signal.
    public var exitSignal: String?

    public init(stdout: [UInt8] = [], stderr: [UInt8] = [], exitStatus: Int32 = 0, exitSignal: String? = nil) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public var succeeded: Bool { exitStatus == 0 && exitSignal == nil }
}
