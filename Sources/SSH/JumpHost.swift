import Foundation

/// One hop on the way to a host (OpenSSH's ProxyJump / `ssh -J`). The target is reached through a
/// direct-tcpip channel opened by the last hop; each hop through the one before it.
public struct JumpHost: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// nil: the target's user (clusterctl's hosts usually share one; OpenSSH would use the local user).
    public var user: String?
    /// Empty: the target's identity files (agent use, passphrase and known_hosts are always the target's).
    public var identityFiles: [String]

    public init(host: String, port: Int = 22, user: String? = nil, identityFiles: [String] = []) {
        self.host = host
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
    }

    /// Parses one hop as OpenSSH's -J / ProxyJump writes it: `[user@]host[:port]`, `[user@][v6-address]:port`
    /// or `ssh://[user@]host[:port]`.
    public init(parsing text: String) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("ssh://") {
            rest = rest.dropFirst(6)
            if rest.hasSuffix("/") { rest = rest.dropLast() }
        }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            if user!.isEmpty { throw JumpHostSyntaxError(text: text, problem: "empty user name") }
        }
        var host = String(rest)
        var port = 22
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw JumpHostSyntaxError(text: text, problem: "missing ]")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else {
                    throw JumpHostSyntaxError(text: text, problem: "expected :port after ]")
                }
                port = value
            }
        } else if let colon = rest.lastIndex(of: ":"), rest.firstIndex(of: ":") == colon {
            host = String(rest[..<colon])
            guard let value = Int(rest[rest.index(after: colon)...]) else {
                throw JumpHostSyntaxError(text: text, problem: "port is not a number")
            }
            port = value
        }
        guard !host.isEmpty else { throw JumpHostSyntaxError(text: text, problem: "empty host name") }
        guard (1...65535).contains(port) else { throw JumpHostSyntaxError(text: text, problem: "port out of range") }
        self.init(host: host, port: port, user: user)
    }

    /// Parses a ProxyJump value: hops separated by commas, in the order they are passed through; "none" (or
    /// nothing) is no hop, as in ssh_config.
    public static func parseList(_ text: String) throws -> [JumpHost] {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "none" { return [] }
        return try text.split(separator: ",").map { try JumpHost(parsing: String($0)) }
    }

    public var description: String {
        let address = host.contains(":") ? "[\(host)]" : host
        return (user.map { "\($0)@" } ?? "") + address + (port == 22 ? "" : ":\(port)")
    }
}

public struct JumpHostSyntaxError: Error, CustomStringConvertible, Sendable {
    public var text: String
    public var problem: String
    public var description: String { "jump host \"\(text)\": \(problem)" }
}

extension SSHClientConfig {
    /// The settings for connecting to `jump` on behalf of this config: the same known_hosts file and host key
    /// policy (a jump host is checked as strictly as the target), the same agent, passphrase and timeouts.
    func forJumpHost(_ jump: JumpHost) -> SSHClientConfig {
        var config = self
        config.host = jump.host
        config.port = jump.port
        config.user = jump.user ?? user
        if !jump.identityFiles.isEmpty { config.identityFiles = jump.identityFiles }
        config.commandTimeout = nil
        config.jumpHosts = []
        return config
    }

    /// What two connections must agree on to share one connection to a jump host.
    var sharingKey: String {
        let policy = hostKeyPolicy == .strict ? "strict" : "accept-new"
        return [user, "\(host):\(port)", identityFiles.joined(separator: "\u{1}"), knownHostsFile, policy,
                useAgent ? (agentSocket ?? "$SSH_AUTH_SOCK") : "no-agent", passphrase ?? ""].joined(separator: "\u{0}")
    }
}
