/// A firewalld zone as `firewall-cmd [--permanent] --list-all` prints it: the parts clusterctl manages.
///
///     public (active)
///       services: dhcpv6-client ssh
///       ports: 11211/tcp
///       rich rules:
///     	rule family="ipv4" source address="10.0.0.11/32" port port="11211" protocol="tcp" accept
public struct FirewalldZone: Sendable, Equatable {
    public var name: String
    public var services: [String]
    public var ports: [String]
    public var richRules: [String]

    public init(name: String, services: [String] = [], ports: [String] = [], richRules: [String] = []) {
        self.name = name
        self.services = services
        self.ports = ports
        self.richRules = richRules
    }

    public static func parse(_ text: String) -> FirewalldZone? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first?.split(separator: " ").first, !first.isEmpty else { return nil }
        var zone = FirewalldZone(name: String(first))
        var inRichRules = false
        for line in lines.dropFirst() {
            let trimmed = line.trimmingASCIIWhitespace()
            if inRichRules, line.hasPrefix("\t") || line.hasPrefix("        "), !trimmed.isEmpty {
                zone.richRules.append(trimmed)
                continue
            }
            inRichRules = false
            if trimmed.hasPrefix("services:") {
                zone.services = words(after: "services:", in: trimmed)
            } else if trimmed.hasPrefix("ports:") {
                zone.ports = words(after: "ports:", in: trimmed)
            } else if trimmed.hasPrefix("rich rules:") {
                inRichRules = true
            }
        }
        return zone
    }

    private static func words(after label: String, in line: String) -> [String] {
        line.dropFirst(label.count).split(separator: " ").map(String.init)
    }
}

/// What clusterctl wants of a host's firewalld: memcached's port open to the allowed sources only (one rich
/// rule each, nothing opening it to everyone), and HTTP and HTTPS on web hosts. The same intent as the
/// CLUSTERCTL chain's templates, expressed in firewalld's terms.
public struct FirewalldIntent: Sendable, Equatable, Codable {
    public var memcachedPort: Int?
    public var memcachedSources: [String]
    public var webServices: [String]

    public init(memcachedPort: Int?, memcachedSources: [String], webServices: [String]) {
        self.memcachedPort = memcachedPort
        self.memcachedSources = memcachedSources
        self.webServices = webServices
    }

    public func richRule(source: String, port: Int) -> String {
        "rule family=\"ipv4\" source address=\"\(source)\" port port=\"\(port)\" protocol=\"tcp\" accept"
    }

    /// The operations that turn `zone` into what this intent wants: rich rules on memcached's port that are
    /// not ours go, as do the port itself and firewalld's `memcache` service (both open it to everyone).
    public func operations(from zone: FirewalldZone) -> FirewalldOperations {
        var ops = FirewalldOperations()
        if let port = memcachedPort {
            let wanted = memcachedSources.map { richRule(source: $0, port: port) }
            ops.addRichRules = wanted.filter { !zone.richRules.contains($0) }
            ops.removeRichRules = zone.richRules.filter { $0.contains("port port=\"\(port)\"") && !wanted.contains($0) }
            ops.removePorts = zone.ports.filter { $0 == "\(port)/tcp" || $0 == "\(port)/udp" }
            ops.removeServices = zone.services.filter { $0 == "memcache" }
        }
        ops.addServices = webServices.filter { !zone.services.contains($0) }
        return ops
    }

    /// The managed part of a zone, one item a line, for the plan's diff.
    public func listing(_ zone: FirewalldZone) -> [String] {
        let port = memcachedPort.map { "port=\"\($0)\"" }
        return zone.services.filter { webServices.contains($0) || $0 == "memcache" }.map { "service \($0)" }
            + zone.ports.filter { p in memcachedPort.map { p.hasPrefix("\($0)/") } ?? false }.map { "port \($0)" }
            + zone.richRules.filter { rule in port.map { rule.contains($0) } ?? false }
    }

    public func desiredListing() -> [String] {
        webServices.map { "service \($0)" } + memcachedSources.map { richRule(source: $0, port: memcachedPort ?? 0) }
    }
}

/// Additions and removals for one configuration (runtime or permanent) of a zone.
public struct FirewalldOperations: Sendable, Equatable, Codable {
    public var addRichRules: [String] = []
    public var removeRichRules: [String] = []
    public var addServices: [String] = []
    public var removeServices: [String] = []
    public var removePorts: [String] = []

    public init() {}

    public var isEmpty: Bool {
        addRichRules.isEmpty && removeRichRules.isEmpty && addServices.isEmpty && removeServices.isEmpty && removePorts.isEmpty
    }

    /// One `firewall-cmd` call (it takes several options at once), or nil when there is nothing to do.
    public func command(zone: String, permanent: Bool) -> String? {
        guard !isEmpty else { return nil }
        var words = ["firewall-cmd", "-q"] + (permanent ? ["--permanent"] : []) + ["--zone=" + ShellQuote.quote(zone)]
        words += removeRichRules.map { "--remove-rich-rule=" + ShellQuote.quote($0) }
        words += removePorts.map { "--remove-port=" + ShellQuote.quote($0) }
        words += removeServices.map { "--remove-service=" + ShellQuote.quote($0) }
        words += addRichRules.map { "--add-rich-rule=" + ShellQuote.quote($0) }
        words += addServices.map { "--add-service=" + ShellQuote.quote($0) }
        return words.joined(separator: " ")
    }
}
