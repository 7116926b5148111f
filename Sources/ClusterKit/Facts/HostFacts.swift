import Foundation

/// What the facts script found on one host.
public struct HostFacts: Sendable, Equatable {
    /// For people: os-release's PRETTY_NAME, or /etc/redhat-release's first line.
    public var osRelease: String
    /// The key of the family the host was recognised as ("unsupported" when none).
    public var family: String
    /// Package name → installed. Contains every package of the query.
    public var packages: [String: Bool]
    public var services: [String: ServiceFacts]
    /// Present files by path; a queried path missing here is absent on the host.
    public var files: [String: RemoteFile]
    /// Normalized `iptables-save` output (no comments, zeroed counters); nil when not queried or missing.
    public var iptablesSave: String?
    /// ufw is installed and active (it owns iptables there: clusterctl must not work around it).
    public var ufwActive: Bool
    /// firewalld runs (EL7+ by default): a `firewall-cmd --reload` would flush rules added beside it.
    public var firewalldRunning: Bool = false
    /// The default zone, as `firewall-cmd --list-all` and `--permanent --list-all` print it (when running).
    public var firewalldRuntime: FirewalldZone?
    public var firewalldPermanent: FirewalldZone?
    /// `getenforce`, lower-cased ("enforcing", "permissive", "disabled"); nil when not asked.
    public var selinuxMode: String?
    public var selinuxBooleans: [String: Bool] = [:]
    /// `type/port` → labeled.
    public var selinuxPorts: [String: Bool] = [:]
    /// The host's run lock, when some run holds it (`stale`: its holder's SSH session is gone).
    public var runLock: RunLockInfo?
    /// The id of the last run that took the run lock ("none" if none ever did): `RunLockScripts.serialPath`.
    public var lockSerial: String?
    /// SHA-256 (hex) of the raw facts output (without the lock lines, with the iptables dump normalised:
    /// `FactsReport.fingerprint`): equal fingerprints = nothing the plan depends on changed.
    public var fingerprint: String

    public init(osRelease: String = "", family: String = "", packages: [String: Bool] = [:],
                services: [String: ServiceFacts] = [:], files: [String: RemoteFile] = [:], iptablesSave: String? = nil,
                ufwActive: Bool = false, fingerprint: String = "") {
        self.osRelease = osRelease
        self.family = family
        self.ufwActive = ufwActive
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

/// The host is not of a family the plan can work with: unsupported altogether, or not the one the inventory
/// or a saved plan expects.
public struct FamilyMismatch: Error, CustomStringConvertible, Equatable {
    public var host: String
    public var found: String
    public var foundFamily: String
    public var expected: [String]

    public var description: String {
        guard let family = OSFamilies.named(foundFamily) else {
            return "\(host): \(found): not a supported OS (supported: \(OSFamilies.supportedList)); nothing was run on it"
        }
        var releases: [String] = []
        for key in expected {
            let release = OSFamilies.named(key)?.release ?? key
            if !releases.contains(release) { releases.append(release) }
        }
        let wanted = releases.map { OSFamilies.named($0).map { "\($0.name) (\($0.key))" } ?? $0 }
        return "\(host): the host runs \(found), which is \(family.name) (\(family.key)), but "
            + "\(wanted.joined(separator: " or ")) was expected (the inventory's os, or the saved plan's); nothing was run on it"
    }
}

/// Runs the facts script over a host's transport (one exec) and parses the report.
public enum FactsGatherer {
    public static let command = "/bin/sh -s"

    /// The facts of the candidate whose family the host turned out to be.
    public static func gather(host: String, candidates: [FactsCandidate],
                              transport: HostTransport) async throws -> (FactsCandidate, HostFacts) {
        let script = FactsScript.script(for: candidates)
        let result = try await transport.run(command, stdin: Array(script.utf8))
        guard result.succeeded else {
            let why = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw FactsError(host: host, message: "facts script exited \(result.exitStatus)"
                             + (result.exitSignal.map { " (signal \($0))" } ?? "") + (why.isEmpty ? "" : ": \(why)")
                             + ". Next: `clusterctl plan -v` shows the command; the host needs a POSIX /bin/sh")
        }
        let facts = try FactsParser.parse(result.stdout, host: host, candidates: candidates)
        guard let candidate = candidates.first(where: { $0.family.key == facts.family }) else {
            throw FamilyMismatch(host: host, found: facts.osRelease, foundFamily: facts.family,
                                 expected: candidates.map(\.family.key))
        }
        return (candidate, facts)
    }

    /// The facts of one family's query (checking a saved plan).
    public static func gather(host: String, query: FactsQuery, family: OSFamily,
                              transport: HostTransport) async throws -> HostFacts {
        try await gather(host: host, candidates: [FactsCandidate(family: family, query: query)], transport: transport).1
    }
}
