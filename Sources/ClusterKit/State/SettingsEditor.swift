/// Where PHP's session settings are written, by file format. PHP reads them in layers (php.ini, then Apache's
/// `php_value` for mod_php, or the FPM pool's `php_value[…]`), and a layer above php.ini silently wins: EL7's
/// /etc/httpd/conf.d/php.conf and EL8+'s /etc/php-fpm.d/www.conf set `session.save_handler` to `files`.
public enum SettingsFormat: String, Sendable, Equatable, Codable {
    /// `key = value` lines (`PHPIniEditor`): missing keys are added under `[Session]`.
    case phpIni = "php.ini"
    /// Apache (mod_php): `php_value key "value"` (or `php_admin_value`).
    case apachePHPValue = "apache-php_value"
    /// An FPM pool: `php_value[key] = value` (or `php_admin_value[…]`).
    case fpmPool = "fpm-pool"

    /// An override layer only overrides what it names: its existing lines are edited, nothing is added (a key
    /// it does not set is php.ini's), and a file that does not exist is not created.
    public var createsMissing: Bool { self == .phpIni }
}

/// Edits the session settings in a file of any `SettingsFormat`, keeping every other byte.
public enum SettingsEditor {
    public static func edit(_ original: [UInt8], settings: [PHPIniSetting], format: SettingsFormat) -> [UInt8] {
        guard format != .phpIni else { return PHPIniEditor.edit(original, settings: settings) }
        var lines = PHPIniEditor.splitLines(original)
        for setting in settings {
            for i in lines.indices {
                if let edited = replaceOverride(in: lines[i], key: setting.key, value: value(setting.value, for: format),
                                                format: format) {
                    lines[i] = edited
                }
            }
        }
        return lines.flatMap { $0 }
    }

    /// php.ini's value as the override format writes it: Apache's directive takes one argument, so the value
    /// is always quoted there; an FPM pool reads ini syntax, like php.ini.
    static func value(_ phpIniValue: String, for format: SettingsFormat) -> String {
        guard format == .apachePHPValue, !phpIniValue.hasPrefix("\"") else { return phpIniValue }
        return "\"\(phpIniValue)\""
    }

    /// The line with the value of an active override of `key` replaced, or nil when it is none.
    static func replaceOverride(in line: [UInt8], key: String, value: String, format: SettingsFormat) -> [UInt8]? {
        var i = 0
        func skipBlanks() { while i < line.count, line[i] == 32 || line[i] == 9 { i += 1 } }
        func take(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard line.count >= i + bytes.count, Array(line[i..<(i + bytes.count)]) == bytes else { return false }
            i += bytes.count
            return true
        }
        skipBlanks()
        guard take("php_value") || take("php_admin_value") else { return nil }
        switch format {
        case .fpmPool:
            guard take("[\(key)]") else { return nil }
            // The rest is `= value`, exactly what PHPIniEditor replaces in a php.ini line.
            let prefix = Array(line[..<i])
            return PHPIniEditor.replaceValue(in: Array(key.utf8) + Array(line[i...]), key: key, value: value)
                .map { prefix + Array($0.dropFirst(key.utf8.count)) }
        case .apachePHPValue:
            let before = i
            skipBlanks()
            guard i > before, take(key), i < line.count, line[i] == 32 || line[i] == 9 else { return nil }
            skipBlanks()
            // Apache's argument: quoted, or one word.
            let valueEnd = PHPIniEditor.valueEnd(in: line, from: i) { $0 == 32 || $0 == 9 }
            return Array(line[..<i]) + Array(value.utf8) + Array(line[valueEnd...])
        case .phpIni:
            return nil
        }
    }
}
