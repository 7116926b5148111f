/// What apply does to a host's firewalld: the operations for its runtime and its permanent configuration
/// (either may already be right), in the default zone, and the diff shown in the plan.
public struct FirewalldChange: Sendable, Equatable, Codable {
    public var zone: String
    public var runtime: FirewalldOperations
    public var permanent: FirewalldOperations
    public var diff: String

    /// A saved plan's change is input: every value must be one of the forms clusterctl itself writes.
    func firstInvalidValue() -> String? {
        let zoneOK = !zone.isEmpty && zone.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }
        guard zoneOK else { return "firewalld.zone: not a zone name: \(zone)" }
        for ops in [runtime, permanent] {
            for rule in ops.addRichRules + ops.removeRichRules where !Self.isRichRule(rule) {
                return "firewalld: not a rich rule clusterctl writes: \(rule)"
            }
            for item in ops.addServices + ops.removeServices + ops.removePorts
            where item.isEmpty || !item.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-/".contains($0)) }) {
                return "firewalld: not a service or port: \(item)"
            }
        }
        return nil
    }

    /// `rule family="ipv4" source address="A" port port="P" protocol="tcp" accept` with a plain address.
    static func isRichRule(_ rule: String) -> Bool {
        let prefix = "rule family=\"ipv4\" source address=\"", middle = "\" port port=\""
        guard rule.hasPrefix(prefix), let m = rule.range(of: middle) else { return false }
        let address = rule[rule.index(rule.startIndex, offsetBy: prefix.count)..<m.lowerBound]
        let rest = rule[m.upperBound...]
        guard address.allSatisfy({ $0.isNumber || $0 == "." || $0 == "/" }), rest.hasSuffix("\" protocol=\"tcp\" accept"),
              let port = Int(rest.dropLast("\" protocol=\"tcp\" accept".count)) else { return false }
        return (1...65535).contains(port)
    }
}

/// Where firewalld runs (EL7+ by default), the firewall is expressed through it instead of an iptables chain:
/// `firewall-cmd --reload` would flush a plain iptables chain, and under nftables firewalld's zone still drops
/// what such a chain accepts. Runtime and permanent configurations are compared separately, so a change made
/// with only one of them (a forgotten `--permanent`) is found and finished.
enum FirewalldPlanner {
    static func changes(intent: FirewalldIntent, facts: HostFacts) throws -> [Change] {
        guard let runtime = facts.firewalldRuntime, let permanent = facts.firewalldPermanent else {
            throw PlanRefusal("firewalld is running but its zone could not be read (firewall-cmd --list-all)")
        }
        let runtimeOps = intent.operations(from: runtime), permanentOps = intent.operations(from: permanent)
        guard !runtimeOps.isEmpty || !permanentOps.isEmpty else { return [] }
        var reasons: [String] = []
        if !runtimeOps.isEmpty { reasons.append("runtime differs") }
        if !permanentOps.isEmpty { reasons.append("permanent configuration differs") }
        let current = runtimeOps.isEmpty ? permanent : runtime
        let diff = UnifiedDiff.diff(old: FirewallStep.listing(intent.listing(current)),
                                    new: FirewallStep.listing(intent.desiredListing()),
                                    oldLabel: "firewalld zone \(runtime.name) (current)",
                                    newLabel: "firewalld zone \(runtime.name) (desired)")
        let change = FirewalldChange(zone: runtime.name, runtime: runtimeOps, permanent: permanentOps, diff: diff)
        return [Change(kind: .configureFirewalld, phase: .firewall, reason: reasons.joined(separator: ", "), firewalld: change)]
    }
}
