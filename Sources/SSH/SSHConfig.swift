import Foundation

/// What to do with a host key that the known_hosts file does not list. A known host whose key differs is
/// refused under every policy: no policy disables checking.
public enum HostKeyPolicy: Sendable {
    /// Refuse unknown hosts (OpenSSH `StrictHostKeyChecking yes`).
    case strict
    /// Append an unknown host's key (hashed) and go on (OpenSSH `StrictHostKeyChecking accept-new`).
    case acceptNew
}

public struct SSHClientConfig: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    /// Private key files tried after the agent. Empty means ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
    public var identityFiles: [String]
    /// The known_hosts file; a leading "~/" is expanded here.
    public var knownHostsFile: String
    public var hostKeyPolicy: HostKeyPolicy
    /// Seconds for TCP connect plus the SSH handshake.
    public var connectTimeout: Double
    /// Default per-command limit in seconds for `exec` (nil: no limit); `exec(timeout:)` overrides it.
    public var commandTimeout: Double?
    /// Seconds between keepalive requests (libssh2 sends keepalive@libssh2.org; 0 disables them).
    public var keepaliveInterval: Int
    /// Passphrase for encrypted identity files. When nil: $CLUSTERCTL_SSH_PASSPHRASE, then a TTY prompt.
    public var passphrase: String?
    public var useAgent: Bool
    /// The ssh-agent socket; nil means $SSH_AUTH_SOCK.
    public var agentSocket: String?
    /// Hops to pass through, in order (OpenSSH ProxyJump). Connections through the same hops with the same
    /// credentials share one connection to each hop.
    public var jumpHosts: [JumpHost]

    public init(
        host: String, port: Int = 22, user: String, identityFiles: [String] = [], knownHostsFile: String,
        hostKeyPolicy: HostKeyPolicy = .strict, connectTimeout: Double = 10, commandTimeout: Double? = nil,
        keepaliveInterval: Int = 15, passphrase: String? = nil, useAgent: Bool = true, agentSocket: String? = nil,
        jumpHosts: [JumpHost] = []
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
        self.knownHostsFile = knownHostsFile
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.keepaliveInterval = keepaliveInterval
        self.passphrase = passphrase
        self.useAgent = useAgent
        self.agentSocket = agentSocket
        self.jumpHosts = jumpHosts
    }

    /// The name known_hosts uses for this host: "host" on port 22, "[host]:port" otherwise.
    public var knownHostsName: String {
        port == 22 ? host : "[\(host)]:\(port)"
    }
}

public struct SSHExecResult: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// The remote exit status; meaningless (0) when `exitSignal` is set.
    public var exitStatus: Int32
    /// The signal name without "SIG" (e.g. "KILL") when the command died of a signal.
    public var exitSignal: String?

    public init(stdout: [UInt8], stderr: [UInt8], exitStatus: Int32, exitSignal: String?) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
    }
}

/// Expands a leading "~/" with $HOME (or the password database).
func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return home + path.dropFirst()
}
