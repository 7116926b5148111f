import ClusterKit

/// Inventory JSON (PositionedJSONParser + InventoryDecoder). Properties: no crash, no hang; bytes either
/// load as a valid inventory or are refused with at least one problem, each pointing at a line:column
/// (an error the user cannot locate in the file is a bug: issue 14).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInventory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        _ = try InventoryLoader.load(bytes: bytes, file: "fuzz.json")
    } catch {
        precondition(!error.problems.isEmpty, "refused with no problem listed")
        for problem in error.problems where problem.position == nil {
            preconditionFailure("problem without a position: \(problem)")
        }
    }
    return 0
}
