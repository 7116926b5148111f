/// Reads what the php.ini and firewall templates rendered back into settings and rules, so an overriding
/// template changes exactly what plan/apply will install, and malformed output fails here rather than on a host.
enum RenderedOutputParser {
    /// `key = value` lines; blank lines, `;`/`#` comments and `[Section]` headers are skipped.
    static func phpSettings(_ rendered: (text: String, origin: String), host: String) throws(TemplateError) -> [PHPIniSetting] {
        var settings: [PHPIniSetting] = []
        for (number, rawLine) in rendered.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine).trimmingWhitespace
            if line.isEmpty || line.hasPrefix(";") || line.hasPrefix("#") || line.hasPrefix("[") { continue }
            let parts = line.split(separator: "=", maxSplits: 1)
            let key = parts.first.map { String($0).trimmingWhitespace } ?? ""
            guard parts.count == 2, !key.isEmpty, !key.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw TemplateError(file: rendered.origin, line: nil,
                                    message: "output line \(number + 1) for host \(host) is not \"key = value\": \(line)")
            }
            if settings.contains(where: { $0.key == key }) {
                throw TemplateError(file: rendered.origin, line: nil,
                                    message: "output for host \(host) sets \(key) twice")
            }
            settings.append(PHPIniSetting(key: key, value: String(parts[1]).trimmingWhitespace))
        }
        for key in Renderer.requiredPHPKeys where !settings.contains(where: { $0.key == key }) {
            throw TemplateError(file: rendered.origin, line: nil, message: "output for host \(host) does not set \(key)")
        }
        return settings
    }

    /// iptables-save rule lines of the chain; blank lines and `#` comments are skipped.
    static func firewallRules(_ rendered: (text: String, origin: String), chain: String,
                              host: String) throws(TemplateError) -> [String] {
        var rules: [String] = []
        for (number, rawLine) in rendered.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine).trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.hasPrefix("-A \(chain) ") else {
                throw TemplateError(file: rendered.origin, line: nil,
                                    message: "output line \(number + 1) for host \(host) is not a rule of chain \(chain) "
                                        + "(must start with \"-A \(chain) \"): \(line)")
            }
            // iptables-save separates words by one space; so must we, or every plan would see a change.
            let rule = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            if rules.contains(rule) {
                throw TemplateError(file: rendered.origin, line: nil,
                                    message: "output for host \(host) has the rule twice: \(rule)")
            }
            rules.append(rule)
        }
        return rules
    }
}

/// `RenderedOutputParser` that parses each distinct text once: a plan renders every host for every family,
/// and most renderings of a template are the same text (the firewall rules of all web hosts). Not shared
/// between threads: one per `Renderer.hostRenderer`. Refusals are not kept (they name the host).
final class RenderedOutputMemo {
    private var rules: [String: [String]] = [:]
    private var settings: [String: [PHPIniSetting]] = [:]

    func firewallRules(_ rendered: (text: String, origin: String), chain: String, host: String) throws(TemplateError) -> [String] {
        if let parsed = rules[rendered.text] { return parsed }
        let parsed = try RenderedOutputParser.firewallRules(rendered, chain: chain, host: host)
        rules[rendered.text] = parsed
        return parsed
    }

    func phpSettings(_ rendered: (text: String, origin: String), host: String) throws(TemplateError) -> [PHPIniSetting] {
        if let parsed = settings[rendered.text] { return parsed }
        let parsed = try RenderedOutputParser.phpSettings(rendered, host: host)
        settings[rendered.text] = parsed
        return parsed
    }
}
