/// The filter table of an `InMemoryTransport` host: enough of iptables-save / iptables-restore --noflush
/// semantics for unit tests of the firewall step (declare-flushes, -A, -D of an exact rule, -I at a position,
/// all-or-nothing COMMIT). Written independently of `FilterTable`'s parser, which is tested against it.
public struct SimulatedFilterTable: Sendable, Equatable {
    /// Chains in iptables-save order; built-in ones first.
    public private(set) var chains: [String] = ["INPUT", "FORWARD", "OUTPUT"]
    /// Rule specs (without `-A CHAIN`) per chain.
    public private(set) var rules: [String: [String]] = [:]

    public init(save: String = "") {
        _ = restore(save, noflush: false)
    }

    /// The table as `iptables-save -t filter` prints it (counters zeroed, no comments).
    public var save: String {
        var out = "*filter\n"
        for chain in chains {
            let builtIn = ["INPUT", "FORWARD", "OUTPUT"].contains(chain)
            out += ":\(chain) \(builtIn ? "ACCEPT" : "-") [0:0]\n"
        }
        for chain in chains { for spec in rules[chain] ?? [] { out += "-A \(chain) \(spec)\n" } }
        return out + "COMMIT\n"
    }

    public func rules(of chain: String) -> [String] { (rules[chain] ?? []).map { "-A \(chain) \($0)" } }

    /// Applies restore input; false (and no change at all) when any line fails, like a failed COMMIT.
    @discardableResult
    public mutating func restore(_ input: String, noflush: Bool) -> Bool {
        var copy = self
        if !noflush { copy.chains = ["INPUT", "FORWARD", "OUTPUT"]; copy.rules = [:] }
        var inFilter = false
        for raw in input.split(separator: "\n") {
            let words = raw.split(separator: " ").map(String.init)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            if first.hasPrefix("*") { inFilter = first == "*filter"; continue }
            guard inFilter else { continue }
            if first == "COMMIT" { inFilter = false; continue }
            if first.hasPrefix(":") {
                let chain = String(first.dropFirst())
                if copy.chains.contains(chain) { copy.rules[chain] = [] } else { copy.chains.append(chain) }
                continue
            }
            guard words.count >= 2, copy.chains.contains(words[1]) else { return false }
            let chain = words[1]
            switch first {
            case "-A":
                copy.rules[chain, default: []].append(words.dropFirst(2).joined(separator: " "))
            case "-D":
                let spec = words.dropFirst(2).joined(separator: " ")
                guard let index = copy.rules[chain]?.firstIndex(of: spec) else { return false }
                copy.rules[chain]?.remove(at: index)
            case "-I":
                guard words.count >= 3, let position = Int(words[2]), position >= 1,
                      position <= (copy.rules[chain]?.count ?? 0) + 1 else { return false }
                copy.rules[chain, default: []].insert(words.dropFirst(3).joined(separator: " "), at: position - 1)
            default:
                return false
            }
        }
        self = copy
        return true
    }
}
