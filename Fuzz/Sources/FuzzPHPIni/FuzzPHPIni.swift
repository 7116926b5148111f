import ClusterKit

/// php.ini and its override layers (PHPIniEditor via SettingsEditor). The first byte picks the format, the
/// rest is the file. Properties (issue 14): no crash, no hang; editing twice equals editing once; every line
/// that is not an active session line is kept byte for byte, in order. The only other bytes the editor may
/// add are a newline ending an unterminated last line and, in php.ini without a `[Session]` section, that
/// header (after a blank line) at the end.
let settings = [
    PHPIniSetting(key: "session.save_handler", value: "memcache"),
    PHPIniSetting(key: "session.save_path", value: "\"tcp://10.180.0.11:11211?persistent=1, tcp://10.180.0.12:11211\""),
]
let formats: [SettingsFormat] = [.phpIni, .apachePHPValue, .fpmPool]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPHPIni(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let format = formats[Int(data[0]) % formats.count]
    let original = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let once = SettingsEditor.edit(original, settings: settings, format: format)
    let twice = SettingsEditor.edit(once, settings: settings, format: format)
    precondition(once == twice, "editing twice differs from editing once")

    let before = lines(original).filter { !isSessionLine($0, format) }
    let after = lines(once).filter { !isSessionLine($0, format) }
    precondition(after.count >= before.count, "a line outside the session lines was removed")
    for (old, new) in zip(before, after) {
        let terminated = old.last != 10 && (new == old + [10] || new == old + [13, 10])
        precondition(new == old || terminated, "a line outside the session lines changed")
    }
    for extra in after.dropFirst(before.count) {
        precondition(format == .phpIni && [[10], [13, 10], header + [10], header + [13, 10]].contains(extra),
                     "a line other than [Session] was added")
    }
    return 0
}

let header = Array("[Session]".utf8)

/// Lines with their "\n" (the last may lack it), like the editor sees them.
func lines(_ bytes: [UInt8]) -> [[UInt8]] {
    var result: [[UInt8]] = [], current: [UInt8] = []
    for byte in bytes {
        current.append(byte)
        if byte == 10 { result.append(current); current = [] }
    }
    if !current.isEmpty { result.append(current) }
    return result
}

/// An independent reading of "an active line setting one of our keys" per format, so that the editor
/// is checked against the formats' rules rather than against itself.
func isSessionLine(_ line: [UInt8], _ format: SettingsFormat) -> Bool {
    let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
    let text = Array(line.drop(while: blank))
    func starts(_ prefix: [UInt8], _ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        bytes.starts(with: prefix) ? bytes.dropFirst(prefix.count) : nil
    }
    for setting in settings {
        let key = Array(setting.key.utf8)
        switch format {
        case .phpIni:
            if let rest = starts(key, text[...]), rest.drop(while: blank).first == UInt8(ascii: "=") { return true }
        case .apachePHPValue, .fpmPool:
            for directive in ["php_value", "php_admin_value"] {
                guard let rest = starts(Array(directive.utf8), text[...]) else { continue }
                if format == .fpmPool, let value = starts(Array("[\(setting.key)]".utf8), rest),
                   value.drop(while: blank).first == UInt8(ascii: "=") { return true }
                if format == .apachePHPValue, let first = rest.first, blank(first),
                   let value = starts(key, rest.drop(while: blank)), let next = value.first, blank(next) { return true }
            }
        }
    }
    return false
}
