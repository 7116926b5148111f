/// The byte dumps of the facts report, as `od -An -v -tx1` prints them: lines of up to 16 bytes, each byte a
/// space and two lowercase hex digits. Works on bytes, not Strings: a web host's php.ini alone is some 140 KB
/// of hex, the largest part of parsing a report.
enum ODHex {
    /// Appends the bytes of one dump line (the range `line` of `text`) to `bytes`. Any run of spaces separates
    /// bytes; a word that is not exactly two hex digits (either case) is refused: its range is returned.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, line: Range<Int>, into bytes: inout [UInt8]) -> Range<Int>? {
        var index = line.lowerBound
        let end = line.upperBound
        while index < end {
            if text[index] == space {
                index += 1
                continue
            }
            let start = index
            while index < end && text[index] != space { index += 1 }
            guard index - start == 2 else { return start..<index }
            let high = digitValues[Int(text[start])], low = digitValues[Int(text[start + 1])]
            guard high != invalid && low != invalid else { return start..<index }
            bytes.append(high << 4 | low)
        }
        return nil
    }

    /// `bytes` as GNU od prints them, so a dump clusterctl rewrites hashes as the host's own would.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 + bytes.count / 16 + 1)
        for (offset, byte) in bytes.enumerated() {
            out.append(space)
            out.append(lowercaseDigits[Int(byte >> 4)])
            out.append(lowercaseDigits[Int(byte & 0x0f)])
            if offset % 16 == 15 || offset == bytes.count - 1 { out.append(UInt8(ascii: "\n")) }
        }
        return out
    }

    private static let space = UInt8(ascii: " ")
    private static let invalid: UInt8 = 0xff
    private static let lowercaseDigits = Array("0123456789abcdef".utf8)
    /// Byte → its value as a hex digit, `invalid` for every other byte.
    private static let digitValues: [UInt8] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt8(byte) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt8(byte) - UInt8(ascii: "A") + 10
        default: return invalid
        }
    }
}
