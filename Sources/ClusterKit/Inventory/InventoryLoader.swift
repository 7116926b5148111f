import Foundation

/// Reads, parses and validates an inventory file: the only way to get an `Inventory`.
public enum InventoryLoader {
    /// Throws `InventoryError` listing every problem (file, JSON path, line:column, message).
    public static func load(path: String) throws(InventoryError) -> Inventory {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw InventoryError(file: path, problems: [.init(path: "(root)", position: nil, message: reason)])
        }
        return try load(bytes: [UInt8](data), file: path)
    }

    /// Parses inventory text; `file` only names it in errors.
    public static func load(bytes: [UInt8], file: String) throws(InventoryError) -> Inventory {
        let root: JSONNode
        do {
            root = try PositionedJSONParser.parse(bytes)
        } catch {
            throw InventoryError(file: file, problems: [
                .init(path: "(root)", position: error.position, message: "invalid JSON: \(error.message)"),
            ])
        }
        var decoder = InventoryDecoder()
        let inventory = decoder.decode(root)
        if let inventory, decoder.problems.isEmpty { return inventory }
        // decode() returns nil only after reporting at least one problem.
        throw InventoryError(file: file, problems: documentOrder(decoder.problems))
    }

    /// Problems sorted by where they were written (those without a position last), ties in reporting order.
    static func documentOrder(_ problems: [InventoryError.Problem]) -> [InventoryError.Problem] {
        problems.enumerated().sorted { lhs, rhs in
            let l = lhs.element.position.map { ($0.line, $0.column) } ?? (Int.max, Int.max)
            let r = rhs.element.position.map { ($0.line, $0.column) } ?? (Int.max, Int.max)
            return l != r ? l < r : lhs.offset < rhs.offset
        }.map(\.element)
    }

    public static func load(text: String, file: String) throws(InventoryError) -> Inventory {
        try load(bytes: Array(text.utf8), file: file)
    }
}
