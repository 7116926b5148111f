/// `--limit host1,web*`: comma-separated host names or globs (`*` any run, `?` one character).
/// A pattern matching no host is an error: a typo must not silently plan nothing.
public struct HostLimit: Sendable, Equatable {
    public var patterns: [String]

    public init(_ text: String) {
        patterns = text.split(separator: ",").map { String($0).trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
    }

    public func select(_ hosts: [Host]) throws -> [Host] {
        for pattern in patterns where !hosts.contains(where: { Self.matches($0.name, pattern: pattern) }) {
            throw HostLimitError(pattern: pattern, known: hosts.map(\.name))
        }
        return hosts.filter { host in patterns.contains { Self.matches(host.name, pattern: $0) } }
    }

    static func matches(_ name: String, pattern: String) -> Bool {
        let n = Array(name), p = Array(pattern)
        // Iterative wildcard match with backtracking to the last `*`.
        var i = 0, j = 0, starJ = -1, starI = 0
        while i < n.count {
            if j < p.count, p[j] == "?" || p[j] == n[i] {
                i += 1; j += 1
            } else if j < p.count, p[j] == "*" {
                starJ = j; starI = i; j += 1
            } else if starJ >= 0 {
                j = starJ + 1; starI += 1; i = starI
            } else {
                return false
            }
        }
        while j < p.count, p[j] == "*" { j += 1 }
        return j == p.count
    }
}

public struct HostLimitError: Error, CustomStringConvertible, Equatable {
    public var pattern: String
    public var known: [String]
    public var description: String {
        "--limit: '\(pattern)' matches no host (hosts: \(known.joined(separator: ", ")))"
    }
}
