import SSH
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Syntax rules for inventory values. Each returns nil when the value is fine, otherwise why it is not.
///
/// The rules are allow-lists: values end up inside double-quoted shell assignments (/etc/sysconfig/memcached),
/// php.ini lines and iptables rules, so anything outside the expected alphabet is refused rather than escaped.
enum ValueRules {
    /// A DNS label: host names become directory names and appear in plan output.
    static func hostNameProblem(_ name: String) -> String? {
        let ok = !name.isEmpty && name.utf8.count <= 63
            && name.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
            && name.first != "-" && name.last != "-"
        return ok ? nil : "host name \(quoted(name)) is not a plain label (lowercase letters, digits and '-', "
            + "at most 63 characters, not starting or ending with '-')"
    }

    /// Unix user names as useradd accepts them by default.
    static func userNameProblem(_ user: String) -> String? {
        guard let first = user.utf8.first, isLowerAlpha(first) || first == UInt8(ascii: "_"),
              user.utf8.count <= 32,
              user.utf8.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { return "\(quoted(user)) is not a valid user name (must match [a-z_][a-z0-9_-]*, at most 32 characters)" }
        return nil
    }

    static func portProblem(_ port: Int) -> String? {
        (1...65535).contains(port) ? nil : "port \(port) is outside 1-65535"
    }

    /// Canonical dotted-quad IPv4 only: iptables-save prints addresses this way, so anything else would make
    /// the rendered rules differ from what the host reports and every apply would see a change.
    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy(isDigit),
                  !(part.count > 1 && part.first == "0"), let value = UInt8(part) else { return nil }
            octets.append(value)
        }
        return octets
    }

    static func ipv4Problem(_ text: String) -> String? {
        parseIPv4(text) == nil ? "\(quoted(text)) is not an IPv4 address (dotted quad such as 10.180.0.5)" : nil
    }

    /// An address other hosts can reach this one on: not unspecified, loopback, link-local, multicast or broadcast
    /// (memcached would listen where no web host can connect, or everywhere).
    static func privateAddressProblem(_ text: String) -> String? {
        guard let octets = parseIPv4(text) else { return ipv4Problem(text) }
        let kind: String? = switch (octets[0], octets[1]) {
        case (0, _): "unspecified"
        case (127, _): "loopback"
        case (169, 254): "link-local"
        case (224...239, _): "multicast"
        case (240...255, _): "reserved or broadcast"
        default: nil
        }
        return kind.map { "\(quoted(text)) is not an address other hosts can reach (\($0))" }
    }

    /// IPv4 address or CIDR network (`10.180.0.0/16`). Host bits must be zero, as iptables-save would print it.
    static func ipv4OrCIDRProblem(_ text: String) -> String? {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count <= 2, let octets = parseIPv4(String(pieces[0])) else {
            return "\(quoted(text)) is not an IPv4 address or CIDR network (such as 10.180.0.5 or 10.180.0.0/24)"
        }
        guard pieces.count == 2 else { return nil }
        let prefixText = pieces[1]
        guard !prefixText.isEmpty, prefixText.utf8.allSatisfy(isDigit), prefixText.count <= 2,
              let prefix = Int(prefixText), prefix <= 32, !(prefixText.count > 1 && prefixText.first == "0") else {
            return "\(quoted(text)) has an invalid prefix length (must be 0-32)"
        }
        let address = octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        if address & ~mask != 0 {
            let network = address & mask
            let text2 = (0..<4).map { String((network >> (24 - 8 * $0)) & 0xFF) }.joined(separator: ".")
            return "\(quoted(text)) has host bits set; did you mean \"\(text2)/\(prefix)\"?"
        }
        return nil
    }

    /// Where SSH connects: an IPv4 address, an IPv6 address, or a DNS host name.
    static func addressProblem(_ text: String) -> String? {
        let problem = "\(quoted(text)) is not an IP address or host name"
        if text.contains(":") { return isIPv6(text) ? nil : problem + " (invalid IPv6 address)" }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        // All-numeric last label: it was meant to be an IPv4 address (DNS has no numeric top-level names).
        if let last = labels.last, !last.isEmpty, last.utf8.allSatisfy(isDigit) {
            return parseIPv4(text) == nil ? problem + " (invalid IPv4 address)" : nil
        }
        let labelsOK = labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { isLowerAlnum($0) || isUpperAlpha($0) || $0 == UInt8(ascii: "-") }
        }
        return labelsOK && text.utf8.count <= 253 ? nil : problem
    }

    static func isIPv6(_ text: String) -> Bool {
        var storage = in6_addr()
        return text.withCString { inet_pton(AF_INET6, $0, &storage) } == 1
    }

    /// Local file paths (identity, known_hosts): absolute or `~/`, no characters that could break out of
    /// quoting anywhere they might be passed on.
    static func localPathProblem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if let bad = path.unicodeScalars.first(where: { forbiddenInText($0) }) {
            return "\(quoted(path)) contains \(describe(bad)), which is not allowed in a path"
        }
        guard path.hasPrefix("/") || path.hasPrefix("~/") else {
            return "\(quoted(path)) must be an absolute path or start with ~/"
        }
        return nil
    }

    /// `ssh.jumpHost`: OpenSSH's ProxyJump syntax, parsed the way the SSH module will use it.
    static func jumpHostProblem(_ text: String) -> String? {
        if let bad = text.unicodeScalars.first(where: { forbiddenInText($0) || $0 == " " }) {
            return "\(quoted(text)) contains \(describe(bad)), which is not allowed in a jump host"
        }
        do {
            _ = try JumpHost.parseList(text)
            return nil
        } catch {
            return "not a jump host list ([user@]host[:port], comma-separated, or \"none\"): \(error)"
        }
    }

    /// One memcached command-line word, as it will stand inside OPTIONS="..." in a sourced shell file.
    static func optionWordProblem(_ word: String) -> String? {
        let allowed = word.utf8.allSatisfy {
            isLowerAlnum($0) || isUpperAlpha($0) || "-_.,:=/+@%".utf8.contains($0)
        }
        if word.isEmpty { return "must not be empty" }
        if !allowed {
            let bad = word.unicodeScalars.first { s in
                !(s.isASCII && (isLowerAlnum(UInt8(s.value)) || isUpperAlpha(UInt8(s.value))
                    || "-_.,:=/+@%".unicodeScalars.contains(s)))
            }!
            return "\(quoted(word)) contains \(describe(bad)); each option must be one word of letters, digits and -_.,:=/+@% "
                + "(split \"-U 0\" into \"-U\", \"0\")"
        }
        return nil
    }

    /// Characters that can end a quoted string, start an expansion, or start a new line/command.
    static func forbiddenInText(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7f || "\"'`$;\\|&<>".unicodeScalars.contains(scalar)
    }

    static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "a newline"
        case "\t": return "a tab"
        case " ": return "a space"
        default: return scalar.value < 0x20 || scalar.value == 0x7f
            ? "a control character" : "'\(Character(scalar))'"
        }
    }

    /// The value as it appeared, with JSON escapes for anything invisible.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The closest candidate within a small edit distance, for "did you mean" hints.
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        let scored = candidates.map { ($0, editDistance(lowered, $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        let limit = max(1, min(3, word.count / 3))
        return best.1 <= limit ? best.0 : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // Optimal string alignment: like Levenshtein, plus a swap of two neighbours ("wbe" -> "web") costs 1.
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    private static func isLowerAlpha(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    private static func isUpperAlpha(_ b: UInt8) -> Bool { b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") }
    private static func isLowerAlnum(_ b: UInt8) -> Bool { isLowerAlpha(b) || isDigit(b) }
}
