import Foundation

/// What the facts script found on one host.
public struct HostFacts: Sendable, Equatable {
    public var osRelease: String
    /// Package name → installed. Contains every package of the query.
    public var packages: [String: Bool]
    public var services: [String: ServiceFacts]
    /// Present files by path; a queried path missing here is absent on the host.
    public var files: [String: RemoteFile]
    /// Normalized `iptables-save` output (no comments, zeroed counters); nil when not queried or missing.
    public var iptablesSave: String?
    /// SHA-256 (hex) of the raw facts output: equal fingerprints = nothing the plan depends on changed.
    public var fingerprint: String

    public init(osRelease: String = "", packages: [String: Bool] = [:], services: [String: ServiceFacts] = [:],
                files: [String: RemoteFile] = [:], iptablesSave: String? = nil, fingerprint: String = "") {
        self.osRelease = osRelease
        self.packages = packages
        self.services = services
        self.files = files
        self.iptablesSave = iptablesSave
        self.fingerprint = fingerprint
    }

    public func isInstalled(_ package: String) -> Bool { packages[package] ?? false }
}

public struct ServiceFacts: Sendable, Equatable {
    public var enabled: Bool
    public var running: Bool
    public init(enabled: Bool, running: Bool) {
        self.enabled = enabled
        self.running = running
    }
}

public struct RemoteFile: Sendable, Equatable {
    public var contents: [UInt8]
    public var mode: Int32
    public var owner: String
    public var group: String
    public init(contents: [UInt8], mode: Int32, owner: String, group: String) {
        self.contents = contents
        self.mode = mode
        self.owner = owner
        self.group = group
    }
}

public struct FactsError: Error, CustomStringConvertible, Equatable {
    public var host: String
    public var message: String
    public init(host: String, message: String) {
        self.host = host
        self.message = message
    }
    public var description: String { "\(host): gathering facts failed: \(message)" }
}

/// Runs the facts script over a host's transport (one exec) and parses the report.
public enum FactsGatherer {
    public static let command = "/bin/sh -s"

    public static func gather(host: String, query: FactsQuery, family: OSFamily,
                              transport: HostTransport) async throws -> HostFacts {
        let script = FactsScript.script(for: query, family: family)
        let result = try await transport.run(command, stdin: Array(script.utf8))
        guard result.succeeded else {
            let why = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw FactsError(host: host, message: "facts script exited \(result.exitStatus)"
                             + (result.exitSignal.map { " (signal \($0))" } ?? "") + (why.isEmpty ? "" : ": \(why)"))
        }
        return try FactsParser.parse(result.stdout, host: host, query: query)
    }
}
