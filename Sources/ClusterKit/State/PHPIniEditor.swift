/// Edits php.ini in place instead of replacing it: the distribution's php.ini carries site tuning that is not
/// ours. Works on bytes so a Latin-1 comment or a missing final newline survives untouched.
///
/// - Every active (uncommented) `KEY = value` line gets the new value; the indentation, the key, the spacing
///   around `=` and a trailing ` ; comment` stay as they were. PHP uses the last occurrence, so all are edited.
/// - A key with no active line is inserted right after the `[Session]` header (in the given order); without a
///   `[Session]` section one is appended at the end of the file.
/// - Inserted lines use the file's line ending (CRLF when its first line ends in CRLF).
public enum PHPIniEditor {
    public static func edit(_ original: [UInt8], settings: [PHPIniSetting]) -> [UInt8] {
        var lines = splitLines(original)
        var missing: [PHPIniSetting] = []
        for setting in settings {
            var found = false
            for i in lines.indices {
                if let edited = replaceValue(in: lines[i], key: setting.key, value: setting.value) {
                    lines[i] = edited
                    found = true
                }
            }
            if !found { missing.append(setting) }
        }
        guard !missing.isEmpty else { return lines.flatMap { $0 } }

        let newline: [UInt8] = lines.first.map { $0.suffix(2) == [13, 10] } == true ? [13, 10] : [10]
        let inserted = missing.map { Array("\($0.key) = \($0.value)".utf8) + newline }
        if let header = lines.firstIndex(where: isSessionHeader) {
            if lines[header].last != 10 { lines[header] += newline }
            lines.insert(contentsOf: inserted, at: header + 1)
        } else {
            if let last = lines.last, last.last != 10 { lines[lines.count - 1] += newline }
            if !lines.isEmpty { lines.append(newline) }
            lines.append(Array("[Session]".utf8) + newline)
            lines += inserted
        }
        return lines.flatMap { $0 }
    }

    /// Lines including their terminating "\n" (the last one may lack it).
    static func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in bytes {
            current.append(byte)
            if byte == 10 {
                lines.append(current)
                current = []
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    private static func isBlank(_ b: UInt8) -> Bool { b == 32 || b == 9 }

    private static func isSessionHeader(_ line: [UInt8]) -> Bool {
        // On the bytes: this runs for every line of a 45 KB php.ini, per host.
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
        guard let first = line.firstIndex(where: { !isSpace($0) }), let last = line.lastIndex(where: { !isSpace($0) }),
              last - first + 1 == 9 else { return false }
        let lower: (UInt8) -> UInt8 = { (65...90).contains($0) ? $0 + 32 : $0 }
        return line[first...last].map(lower).elementsEqual("[session]".utf8)
    }

    /// The line with its value replaced, or nil if it is not an active `key =` line.
    static func replaceValue(in line: [UInt8], key: String, value: String) -> [UInt8]? {
        let keyBytes = Array(key.utf8)
        var i = 0
        while i < line.count, isBlank(line[i]) { i += 1 }
        guard line.count >= i + keyBytes.count, Array(line[i..<(i + keyBytes.count)]) == keyBytes else { return nil }
        i += keyBytes.count
        while i < line.count, isBlank(line[i]) { i += 1 }
        guard i < line.count, line[i] == UInt8(ascii: "=") else { return nil }
        i += 1
        while i < line.count, isBlank(line[i]) { i += 1 }
        // An unquoted value ends at " ;" (a comment) or the line end.
        let valueEnd = Self.valueEnd(in: line, from: i) { $0 == UInt8(ascii: ";") }
        return Array(line[..<i]) + Array(value.utf8) + Array(line[valueEnd...])
    }

    /// Where the value starting at `start` ends: before the first byte `endsUnquoted` accepts outside quotes
    /// (blanks before it excluded), or at the line end. A quoted start is skipped to its closing quote first,
    /// and what follows the quote up to that byte belongs to the value too (`"files" x ; c`): ending at the
    /// quote left ` x` behind, and once our unquoted value replaced `"files"` a second edit took `memcache x`
    /// as the value, so editing twice differed from editing once (found by Fuzz/FuzzPHPIni's property).
    static func valueEnd(in line: [UInt8], from start: Int, endsUnquoted: (UInt8) -> Bool) -> Int {
        var end = line.count
        while end > start, line[end - 1] == 10 || line[end - 1] == 13 { end -= 1 }
        var from = start
        if start < end, line[start] == UInt8(ascii: "\"") {
            guard let close = line[(start + 1)..<end].firstIndex(of: UInt8(ascii: "\"")) else { return end }
            from = close + 1
        }
        // Without that byte the value runs to the line end, trailing blanks included, quoted or not: trimming
        // them after a quoted value only would make the next edit, of an unquoted one, take them (fuzz finding).
        guard var valueEnd = line[from..<end].firstIndex(where: endsUnquoted) else { return end }
        while valueEnd > from, isBlank(line[valueEnd - 1]) { valueEnd -= 1 }
        return valueEnd
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let blanks: Set<Character> = [" ", "\t", "\r", "\n", "\r\n"]
        return String(drop { blanks.contains($0) }.reversed().drop { blanks.contains($0) }.reversed())
    }
}
