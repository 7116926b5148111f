/// The part of `iptables-save` output clusterctl reads: the filter table's chains, the rules of its own chain
/// and where INPUT jumps to it. Everything else is kept only to be left alone.
public struct FilterTable: Sendable, Equatable {
    /// Chains declared in the filter table (`:NAME POLICY [p:b]` lines), in order.
    public var chains: [String]
    /// Every `-A` line of the table, whitespace-normalised, in order.
    public var rules: [String]

    public init(chains: [String] = [], rules: [String] = []) {
        self.chains = chains
        self.rules = rules
    }

    /// Reads the `*filter` … `COMMIT` section; other tables, comments and counters are ignored. No filter
    /// section (an `iptables-save` of a host whose tables were never loaded) is an empty table.
    public static func parse(_ iptablesSave: String) -> FilterTable {
        var table = FilterTable()
        var inFilter = false
        // "\r\n" is one Character in Swift, which a split on "\n" does not split at: a CRLF file was one line.
        for raw in iptablesSave.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = normalize(String(raw))
            if line.hasPrefix("*") {
                inFilter = line == "*filter"
            } else if line == "COMMIT" {
                inFilter = false
            } else if inFilter, line.hasPrefix(":") {
                table.chains.append(String(line.dropFirst().prefix { $0 != " " }))
            } else if inFilter, line.hasPrefix("-A ") {
                table.rules.append(line)
            }
        }
        return table
    }

    /// iptables-save separates words by single spaces; templates and hand-written files may not.
    public static func normalize(_ line: String) -> String {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
    }

    public func hasChain(_ chain: String) -> Bool { chains.contains(chain) }

    /// The rules of `chain`, in order.
    public func rules(of chain: String) -> [String] {
        rules.filter { $0.hasPrefix("-A \(chain) ") }
    }

    /// The jump rule clusterctl puts first in INPUT.
    public static func jumpRule(to chain: String) -> String { "-A INPUT -j \(chain)" }

    /// 1-based positions in INPUT of the plain jump to `chain` (exactly `-A INPUT -j CHAIN`; a jump with
    /// matches of its own was written by someone else and is not ours).
    public func inputJumpPositions(to chain: String) -> [Int] {
        let input = rules(of: "INPUT")
        let jump = Self.jumpRule(to: chain)
        return input.indices.filter { input[$0] == jump }.map { $0 + 1 }
    }
}
