import ClusterKit

/// iptables-save output (FilterTable). Property: no crash, no hang, and what it reads is stable: every
/// rule it returns is already normalised (parsing is the only place iptables text is interpreted).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFilterTable(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let table = FilterTable.parse(text)
    for rule in table.rules {
        precondition(FilterTable.normalize(rule) == rule, "rule not normalised: \(rule.debugDescription)")
    }
    _ = table.hasChain("CLUSTERCTL")
    _ = table.rules(of: "INPUT")
    _ = table.inputJumpPositions(to: "CLUSTERCTL")
    return 0
}
