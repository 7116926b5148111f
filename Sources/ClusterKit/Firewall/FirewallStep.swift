/// What apply does to a host's firewall: the complete desired rule list of clusterctl's chain (so a saved
/// plan applies exactly what was shown) and where INPUT jumped to the chain when the facts were taken.
public struct FirewallChange: Sendable, Equatable, Codable {
    public var chain: String
    /// iptables-save lines, each `-A CHAIN …`, in order.
    public var rules: [String]
    /// 1-based positions of `-A INPUT -j CHAIN` in INPUT at plan time ([1] = already first, nothing to do).
    public var inputJumps: [Int]
    /// Unified diff of the chain's rules (current → desired); empty when only the jump moves.
    public var diff: String

    public init(chain: String, rules: [String], inputJumps: [Int], diff: String) {
        self.chain = chain
        self.rules = rules
        self.inputJumps = inputJumps
        self.diff = diff
    }

    /// The jump must be (re)placed unless it is exactly once in INPUT, as rule 1.
    public var movesJump: Bool { inputJumps != [1] }
}

/// Plans the firewall: compares clusterctl's chain and the INPUT jump in the host's `iptables-save` with the
/// rendered rules. Converged = the chain exists with exactly these rules (whitespace-normalised, in order)
/// and `-A INPUT -j CHAIN` is INPUT's first rule and appears only once. Rules and chains of others are not
/// looked at, so they can never cause a change.
public struct FirewallStep: PlanStep {
    public init() {}

    public func changes(desired: DesiredState, facts: HostFacts, earlier: [Change]) throws -> [Change] {
        guard let wanted = desired.firewall else { return [] }
        if facts.ufwActive {
            // ufw rebuilds its chains on `ufw reload` and at boot, and its default policy drops what clusterctl's
            // chain would accept; rules added beside it would be contradicted or wiped.
            throw PlanRefusal("ufw is active on this host and owns its iptables rules; clusterctl manages the firewall "
                              + "with its own \(wanted.chain) chain and will not work around ufw. Disable ufw "
                              + "(`ufw disable`) to let clusterctl manage the firewall, then plan again")
        }
        if facts.firewalldRunning, let intent = desired.firewalldIntent {
            return try FirewalldPlanner.changes(intent: intent, facts: facts)
        }
        let table = FilterTable.parse(facts.iptablesSave ?? "")
        let chain = wanted.chain
        let rules = wanted.rules.map(FilterTable.normalize)
        let current = table.rules(of: chain)
        let jumps = table.inputJumpPositions(to: chain)

        var reasons: [String] = []
        if !table.hasChain(chain) {
            reasons.append("chain \(chain) missing")
        } else if current != rules {
            reasons.append("rules differ")
        }
        switch jumps {
        case [1]: break
        case []: reasons.append("no INPUT jump to \(chain)")
        case let positions where positions.count == 1: reasons.append("INPUT jump at rule \(positions[0]), not 1")
        case let positions: reasons.append("\(positions.count) INPUT jumps to \(chain) (rules "
                                           + positions.map(String.init).joined(separator: ", ") + ")")
        }
        guard !reasons.isEmpty else { return [] }
        let diff = UnifiedDiff.diff(old: Self.listing(current), new: Self.listing(rules),
                                    oldLabel: table.hasChain(chain) ? "\(chain) (current)" : "/dev/null",
                                    newLabel: "\(chain) (desired)")
        let change = FirewallChange(chain: chain, rules: rules, inputJumps: jumps, diff: diff)
        return [.replaceFirewall(change, reason: reasons.joined(separator: ", "))]
    }

    /// One item a line, for diffs.
    static func listing(_ rules: [String]) -> [UInt8] {
        Array(rules.map { $0 + "\n" }.joined().utf8)
    }
}

extension FirewallChange {
    /// A saved plan's firewall change is input: its rules go to `iptables-restore` on the host, so they must
    /// be single rule lines of the plan's own chain (no second line smuggling in a `-F INPUT` or `*nat`).
    func firstInvalidValue() -> String? {
        let isChainName = !chain.isEmpty && chain.count <= 28
            && chain.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }
        guard isChainName, !["INPUT", "OUTPUT", "FORWARD"].contains(chain) else {
            return "firewall.chain: not a user chain name: \(chain)"
        }
        for (index, rule) in rules.enumerated() {
            let clean = !rule.contains { $0 == "\n" || $0 == "\r" || $0 == "\0" }
            guard clean, rule.hasPrefix("-A \(chain) "), rule == FilterTable.normalize(rule) else {
                return "firewall.rules[\(index)]: not one normalised rule of chain \(chain): \(rule)"
            }
        }
        guard inputJumps.allSatisfy({ $0 >= 1 }) else { return "firewall.inputJumps: positions start at 1" }
        return nil
    }
}
