/// Unified diff of two texts, GNU style (`---`/`+++` headers, `@@ -a,b +c,d @@` hunks, 3 lines of context,
/// `\ No newline at end of file`), computed here because targets and operators should not need diff(1).
///
/// Algorithm: strip the common prefix and suffix (a php.ini edit leaves a tiny middle), then an LCS table over
/// the middle. A middle too large for the table falls back to "remove all, add all", still a correct diff.
public enum UnifiedDiff {
    public static let context = 3
    static let maxTableCells = 4_000_000

    enum Op: Equatable { case same(String), removed(String), added(String) }

    /// Empty when `old == new`. `oldLabel`/`newLabel` go on the `---`/`+++` lines (e.g. "/dev/null").
    public static func diff(old: [UInt8], new: [UInt8], oldLabel: String, newLabel: String) -> String {
        guard old != new else { return "" }
        let a = lines(old), b = lines(new)
        let ops = editScript(a, b)
        var out = "--- \(oldLabel)\n+++ \(newLabel)\n"
        for hunk in hunks(ops) { out += hunk }
        return out
    }

    /// Lines without terminators; a final line lacking "\n" is marked so it differs from one that has it.
    static func lines(_ bytes: [UInt8]) -> [String] {
        PHPIniEditor.splitLines(bytes).map { line in
            if line.last == 10 { return String(decoding: line.dropLast(), as: UTF8.self) }
            return String(decoding: line, as: UTF8.self) + noNewlineMarker
        }
    }
    static let noNewlineMarker = "\u{0}no-newline"

    static func editScript(_ a: [String], _ b: [String]) -> [Op] {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        let midA = Array(a[prefix..<(a.count - suffix)]), midB = Array(b[prefix..<(b.count - suffix)])
        var ops = a[..<prefix].map { Op.same($0) }
        ops += lcsOps(midA, midB)
        ops += a[(a.count - suffix)...].map { Op.same($0) }
        return ops
    }

    private static func lcsOps(_ a: [String], _ b: [String]) -> [Op] {
        let n = a.count, m = b.count
        if n == 0 || m == 0 || (n + 1) * (m + 1) > maxTableCells {
            return a.map { .removed($0) } + b.map { .added($0) }
        }
        // table[i][j] = LCS length of a[i...] and b[j...], flattened.
        var table = [Int32](repeating: 0, count: (n + 1) * (m + 1))
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i * (m + 1) + j] = a[i] == b[j]
                    ? table[(i + 1) * (m + 1) + j + 1] + 1
                    : max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1])
            }
        }
        var ops: [Op] = []
        var i = 0, j = 0
        while i < n, j < m {
            if a[i] == b[j] {
                ops.append(.same(a[i])); i += 1; j += 1
            } else if table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1] {
                ops.append(.removed(a[i])); i += 1
            } else {
                ops.append(.added(b[j])); j += 1
            }
        }
        ops += a[i...].map { .removed($0) }
        ops += b[j...].map { .added($0) }
        return ops
    }

    private static func hunks(_ ops: [Op]) -> [String] {
        let changed = ops.indices.filter { if case .same = ops[$0] { return false } else { return true } }
        guard !changed.isEmpty else { return [] }
        // Group changes whose context windows touch or overlap.
        var ranges: [ClosedRange<Int>] = []
        for index in changed {
            let lo = max(0, index - context), hi = min(ops.count - 1, index + context)
            if let last = ranges.last, lo <= last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, hi)
            } else {
                ranges.append(lo...hi)
            }
        }
        // Line numbers (1-based) of each op's position in old and new.
        var oldLine = [Int](), newLine = [Int]()
        var o = 1, n = 1
        for op in ops {
            oldLine.append(o); newLine.append(n)
            switch op {
            case .same: o += 1; n += 1
            case .removed: o += 1
            case .added: n += 1
            }
        }
        return ranges.map { range in
            var body = ""
            var oldCount = 0, newCount = 0
            for op in ops[range] {
                switch op {
                case .same(let l): body += render(" ", l); oldCount += 1; newCount += 1
                case .removed(let l): body += render("-", l); oldCount += 1
                case .added(let l): body += render("+", l); newCount += 1
                }
            }
            let oldStart = oldCount == 0 ? oldLine[range.lowerBound] - 1 : oldLine[range.lowerBound]
            let newStart = newCount == 0 ? newLine[range.lowerBound] - 1 : newLine[range.lowerBound]
            return "@@ -\(span(oldStart, oldCount)) +\(span(newStart, newCount)) @@\n" + body
        }
    }

    private static func span(_ start: Int, _ count: Int) -> String { count == 1 ? "\(start)" : "\(start),\(count)" }

    private static func render(_ sign: String, _ line: String) -> String {
        if line.hasSuffix(noNewlineMarker) {
            return sign + line.dropLast(noNewlineMarker.count) + "\n\\ No newline at end of file\n"
        }
        return sign + line + "\n"
    }
}
