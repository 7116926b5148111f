import Foundation
import Testing

/// The test cluster's reach options (issue 12, Tests/Cluster/lib/reach.bash): a bastion with a leg on a second,
/// private bridge, hosts that live only there, extra host key types; and the sudo users every el5/plain host has.
extension TestCluster {
    struct Reach: Sendable {
        /// Adds `bastion1` (198.18.0.10 on the cluster's bridge, 198.18.1.10 on the private one).
        var bastion = false
        /// "memcache", "web", "other": these hosts live on 198.18.1.0/24 only, reached through the bastion
        /// (the inventory gives them `ssh.jumpHost`); the machine cannot reach that range. Implies `bastion`.
        var privateRoles: [String] = []
        /// The host key types every el5/plain host offers ("ed25519", "ecdsa", "rsa"); known_hosts still
        /// holds ed25519 lines only. With more than one, the hosts' sshd log at DEBUG1 ("kex: host key
        /// algorithm: ...").
        var hostKeyTypes: [String] = ["ed25519"]

        var arguments: [String] {
            (bastion ? ["--bastion"] : []) + (privateRoles.isEmpty ? [] : ["--private", privateRoles.joined(separator: ",")])
                + (hostKeyTypes == ["ed25519"] ? [] : ["--host-keys", hostKeyTypes.joined(separator: ",")])
        }
    }

    static let bastionName = "bastion1"
    static let bastionAddress = "198.18.0.10"
    static let bastionPrivateAddress = "198.18.1.10"
    static let privateNetwork = "198.18.1.0/24"
    /// deploypw's (and nosudo's) password, as in lib/reach.bash; only its hash is ever written into STATE.
    static let becomePassword = "cct-Sudo-pw-7f3e"

    nonisolated func isPrivate(_ address: String) -> Bool { address.hasPrefix("198.18.1.") }

    /// Hosts of the inventory (the bastion is a jump host, not a cluster member).
    nonisolated var members: [Host] { hosts.filter { !$0.roles.contains("bastion") } }

    /// For a private host: an OpenSSH ProxyCommand through the bastion with the cluster's key and known_hosts
    /// (ProxyJump would not hand -i and -o on to the jump connection).
    nonisolated func proxyOptions(_ address: String) -> [String] {
        guard isPrivate(address) else { return [] }
        return ["-o", "ProxyCommand=/usr/bin/ssh " + sshOptions().joined(separator: " ")
                + " -W %h:%p root@\(Self.bastionAddress)"]
    }

    /// What the reach options leave in the machine's own namespace: the unreachable route for the private
    /// range. (The private bridge lives in cct-switch and the bastion in cct-bastion1: checked as netns.)
    static func reachLeftovers() async throws -> [String] {
        let routes = try await runProcess("/usr/sbin/ip", ["route", "show", privateNetwork]).stdout
        return routes.split(separator: "\n").map { "route \($0)" }
    }

    /// A file on `host`, read inside its namespaces (nsenter: works for private hosts too); "" when missing.
    nonisolated func hostFile(_ host: String, _ path: String) async throws -> String {
        let output = try await exec(host, "cat \(path) 2>/dev/null || true")
        return output.stdout
    }

    /// How often `text` occurs in `host`'s sshd log (/var/log/secure). Counted in the whole text, not per line:
    /// sshd ends some lines with "\r\n", which Swift keeps as one Character that splitting at "\n" misses.
    nonisolated func sshdLogCount(_ host: String, _ text: String) async throws -> Int {
        try await hostFile(host, "/var/log/secure").components(separatedBy: text).count - 1
    }
}

/// `clusterctl` with extra environment variables (CLUSTERCTL_BECOME_PASSWORD); stdin is not a TTY.
func clusterctl(_ arguments: [String], environment: [String: String], timeout: Double = 600) async throws -> ProcessOutput {
    let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("clusterctl").path
    try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) missing: swift build --build-tests")
    return try await runProcess(path, arguments, environment: environment, timeout: timeout)
}

/// Writes `json` (an inventory) next to the cluster's inventory as `name` and returns its path.
func writeInventory(_ cluster: TestCluster, _ name: String, _ json: [String: Any]) throws -> String {
    let path = (cluster.inventoryPath as NSString).deletingLastPathComponent + "/" + name
    try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        .write(to: URL(fileURLWithPath: path))
    return path
}

/// The cluster's inventory as a mutable JSON object.
func inventoryJSON(_ cluster: TestCluster) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: cluster.inventoryPath))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}
