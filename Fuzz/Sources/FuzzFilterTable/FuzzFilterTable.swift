import ClusterKit

/// iptables-save output (FilterTable). Properties: no crash, no hang; every rule it returns is already
/// normalised (parsing is the only place iptables text is interpreted); and line endings do not matter, as
/// `normalize` promises for hand-written files: the same text with CRLF line ends reads the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFilterTable(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    let table = FilterTable.parse(text)
    let crlf = String(decoding: bytes.flatMap { $0 == 10 ? [13, 10] : [$0] }, as: UTF8.self)
    precondition(FilterTable.parse(crlf) == table, "CRLF line ends read differently")
    for rule in table.rules {
        precondition(FilterTable.normalize(rule) == rule, "rule not normalised: \(rule.debugDescription)")
    }
    _ = table.hasChain("CLUSTERCTL")
    _ = table.rules(of: "INPUT")
    _ = table.inputJumpPositions(to: "CLUSTERCTL")
    return 0
}
