import Foundation
import SSH

/// `HostTransport` over the SSH module: one libssh2 connection per host for the whole run, strict host keys.
public final class SSHHostTransport: HostTransport {
    public let connection: SSHConnection

    public init(connection: SSHConnection) {
        self.connection = connection
    }

    /// Connects with the host's effective SSH settings from the inventory (or a saved plan).
    /// `commandTimeout` bounds every command (a hung init script must not hang the run forever).
    public static func connect(_ host: Host, connectTimeout: Double = 10,
                               commandTimeout: Double = 600) async throws -> SSHHostTransport {
        let ssh = host.ssh
        let jumpHosts = try JumpHost.parseList(ssh.jumpHost ?? "")
        var config = SSHClientConfig(
            host: host.address, port: ssh.port, user: ssh.user,
            // The SSH module expands a leading "~/" in both paths.
            identityFiles: ssh.identityFile.map { [$0] } ?? [],
            knownHostsFile: ssh.knownHostsFile ?? "~/.ssh/known_hosts",
            hostKeyPolicy: .strict, connectTimeout: connectTimeout, commandTimeout: commandTimeout,
            jumpHosts: jumpHosts)
        if ssh.config != "none" {
            // `address` may be a Host alias of the operator's ~/.ssh/config; what the inventory says wins.
            let openSSH = try OpenSSHConfig.load(path: ssh.config)
            let written = ssh.explicitKeys
            let explicit = SSHExplicitSettings(
                user: written.contains("user") ? ssh.user : nil, port: written.contains("port") ? ssh.port : nil,
                identityFiles: ssh.identityFile.map { [$0] }, knownHostsFile: ssh.knownHostsFile,
                jumpHosts: ssh.jumpHost == nil ? nil : jumpHosts)
            config.apply(try openSSH.effectiveSettings(for: host.address, explicit: explicit, defaultUser: ssh.user))
        }
        return SSHHostTransport(connection: try await SSHConnection.connect(config))
    }

    /// `connect`, then sudo on top when the host's `ssh.become` says so (`BecomeTransport.probe` fails the host
    /// with a clear reason before anything runs when sudo cannot be used).
    public static func connect(_ host: Host, becomePassword: BecomePassword, connectTimeout: Double = 10,
                               commandTimeout: Double = 600) async throws -> HostTransport {
        let transport = try await connect(host, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        guard host.ssh.become == "sudo" else { return transport }
        do {
            return try await BecomeTransport.probe(transport, host: host.name) { await becomePassword.password() }
        } catch {
            await transport.close()
            throw error
        }
    }

    public func run(_ command: String, stdin: [UInt8]) async throws -> CommandResult {
        let result = try await connection.exec(command, stdin: stdin)
        return CommandResult(stdout: result.stdout, stderr: result.stderr, exitStatus: result.exitStatus,
                             exitSignal: result.exitSignal)
    }

    public func upload(_ data: [UInt8], to path: String, mode: Int32) async throws {
        try await connection.upload(data, to: path, mode: mode)
    }

    public func close() async {
        await connection.close()
    }

    public var sshPort: Int? { connection.config.port }
}
