import Foundation

/// The JSON form of a plan: what `plan --json` prints and `plan --out FILE` saves (the same document).
/// Documented in docs/plan-json.md; `version` changes when a field changes meaning.
public struct PlanDocument: Sendable, Equatable, Codable {
    public static let formatName = "clusterctl-plan"
    /// 2: the OS family is per host (`os`, `osRelease`), no longer one `osFamily` for the whole plan.
    public static let currentVersion = 2

    public var format: String
    public var version: Int
    public var summary: PlanSummary
    public var hosts: [HostEntry]
    /// Added after version 2 (absent in older saved plans): `Plan.warnings` and `Plan.session`.
    public var warnings: [String]?
    public var session: PlanSession?

    public struct HostEntry: Sendable, Equatable, Codable {
        public var name: String
        public var roles: [Role]
        public var address: String
        public var privateAddress: String
        public var ssh: SSHEntry
        /// The family key the host was recognised as (`apply` refuses the host if it is another by then).
        public var os: String?
        public var osRelease: String?
        public var fingerprint: String?
        public var facts: FactsQuery
        public var error: String?
        public var changes: [Change]
        /// A run lock some apply held when the host was planned (information only: apply checks it again).
        public var runLock: RunLockEntry?
    }

    public struct RunLockEntry: Sendable, Equatable, Codable {
        public var id: String
        public var by: String
        public var pid: Int32
        public var started: String
        public var command: String
        /// The holder's SSH session is gone: apply takes the lock over.
        public var stale: Bool
    }

    public struct SSHEntry: Sendable, Equatable, Codable {
        public var user: String
        public var port: Int
        public var identityFile: String?
        public var knownHostsFile: String?
        public var become: String?
        public var jumpHost: String?
        public var config: String?
        public var explicitKeys: [String]?
    }

    public init(_ plan: Plan) {
        format = Self.formatName
        version = Self.currentVersion
        summary = plan.summary
        warnings = plan.warnings
        session = plan.session
        hosts = plan.hosts.map { hostPlan in
            let h = hostPlan.host
            return HostEntry(
                name: h.name, roles: h.sortedRoles, address: h.address, privateAddress: h.privateAddress,
                ssh: SSHEntry(user: h.ssh.user, port: h.ssh.port, identityFile: h.ssh.identityFile,
                              knownHostsFile: h.ssh.knownHostsFile, become: h.ssh.become,
                              jumpHost: h.ssh.jumpHost, config: h.ssh.config,
                              explicitKeys: h.ssh.explicitKeys.isEmpty ? nil : h.ssh.explicitKeys.sorted()),
                os: hostPlan.family?.key, osRelease: hostPlan.osRelease, fingerprint: hostPlan.fingerprint, facts: hostPlan.query, error: hostPlan.error,
                changes: hostPlan.changes,
                runLock: hostPlan.runLock.map { RunLockEntry(id: $0.id, by: $0.who, pid: $0.pid, started: $0.started,
                                                             command: $0.command, stale: $0.stale) })
        }
    }

    public var plan: Plan {
        var plan = Plan(hosts: hosts.map { entry in
            var ssh = SSHSettings(user: entry.ssh.user, port: entry.ssh.port, identityFile: entry.ssh.identityFile,
                                  knownHostsFile: entry.ssh.knownHostsFile, become: entry.ssh.become)
            ssh.jumpHost = entry.ssh.jumpHost
            ssh.config = entry.ssh.config
            ssh.explicitKeys = Set(entry.ssh.explicitKeys ?? [])
            let host = Host(name: entry.name, roles: Set(entry.roles), address: entry.address,
                            privateAddress: entry.privateAddress, ssh: ssh)
            return HostPlan(host: host, family: entry.os.flatMap(OSFamilies.named), osRelease: entry.osRelease,
                            query: entry.facts, fingerprint: entry.fingerprint, changes: entry.changes,
                            error: entry.error)
        })
        plan.warnings = warnings ?? []
        plan.session = session ?? PlanSession()
        return plan
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [10]
    }

    /// Decodes a saved plan, naming the file and what is wrong.
    public static func decode(_ bytes: [UInt8], file: String) throws -> PlanDocument {
        let document: PlanDocument
        do {
            document = try JSONDecoder().decode(PlanDocument.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw PlanFileError(file: file, message: describe(error))
        }
        guard document.format == formatName else {
            throw PlanFileError(file: file, message: "format: expected \"\(formatName)\", found \"\(document.format)\"")
        }
        guard document.version == currentVersion else {
            throw PlanFileError(file: file, message: "version: expected \(currentVersion), found \(document.version)")
        }
        if let problem = document.firstInvalidValue() { throw PlanFileError(file: file, message: problem) }
        return document
    }

    /// Reads and decodes a saved plan file.
    public static func load(path: String) throws -> PlanDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlanFileError(file: path, message: "cannot read the file")
        }
        return try decode(Array(data), file: path)
    }

    /// A saved plan is input like the inventory: its names and paths reach remote shells (quoted as well),
    /// so they are checked the way inventory validation would.
    func firstInvalidValue() -> String? {
        func isName(_ s: String) -> Bool {
            !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._+-".contains($0)) }
        }
        func isPath(_ s: String) -> Bool {
            s.hasPrefix("/") && !s.contains("\0") && !s.contains("\n") && !s.split(separator: "/").contains("..")
        }
        for (h, host) in hosts.enumerated() {
            let at = "hosts[\(h)]"
            guard isName(host.name) else { return "\(at).name: not a host name: \(host.name)" }
            if let become = host.ssh.become, become != "sudo" { return "\(at).ssh.become: must be \"sudo\", found \(become)" }
            if let jump = host.ssh.jumpHost, let problem = ValueRules.jumpHostProblem(jump) { return "\(at).ssh.jumpHost: \(problem)" }
            if let os = host.os, OSFamilies.named(os) == nil {
                return "\(at).os: unknown OS family \"\(os)\" (supported: \(OSFamilies.releaseKeys.joined(separator: ", ")))"
            }
            if host.os == nil && host.error == nil { return "\(at).os: missing (every planned host has one)" }
            for path in host.facts.files where !isPath(path) { return "\(at).facts.files: not an absolute path: \(path)" }
            for port in host.facts.selinuxPorts where !port.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ isName(String($0)) }) {
                return "\(at).facts.selinuxPorts: not a type/port: \(port)"
            }
            for name in host.facts.packages + host.facts.services + host.facts.selinuxBooleans where !isName(name) {
                return "\(at).facts: not a package or service name: \(name)"
            }
            for (c, change) in host.changes.enumerated() {
                let where_ = "\(at).changes[\(c)]"
                for name in [change.package, change.service].compactMap({ $0 }) where !isName(name) {
                    return "\(where_): not a package or service name: \(name)"
                }
                if let file = change.file {
                    guard isPath(file.path) else { return "\(where_).file.path: not an absolute path: \(file.path)" }
                    guard isName(file.owner), isName(file.group) else { return "\(where_).file: bad owner or group" }
                    guard (0...0o7777).contains(file.mode) else { return "\(where_).file.mode: out of range" }
                }
                if let problem = change.firewall?.firstInvalidValue() { return "\(where_).\(problem)" }
                if let problem = change.firewalld?.firstInvalidValue() { return "\(where_).\(problem)" }
                if change.kind == .configureFirewalld, change.firewalld == nil { return "\(where_): no firewalld" }
                if let value = change.selinux, !value.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ isName(String($0)) }) {
                    return "\(where_).selinux: not an SELinux boolean or type/port: \(value)"
                }
                if change.kind == .replaceFirewallChain, change.firewall == nil { return "\(where_): no firewall" }
            }
        }
        return nil
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return (context.codingPath.isEmpty ? "" : "\(path(context.codingPath)): ") + context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}

public struct PlanFileError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var message: String
    public var description: String { "\(file): not a usable saved plan: \(message)" }
}
