import Foundation

/// One usable line of a known_hosts file.
struct KnownHostsEntry: Sendable, Equatable {
    enum Marker: Sendable, Equatable { case none, revoked, certAuthority }
    enum Hosts: Sendable, Equatable {
        /// `|1|salt|hash`: HMAC-SHA1 of the host name under the salt (OpenSSH HashKnownHosts).
        case hashed(salt: [UInt8], hash: [UInt8])
        /// Comma-separated patterns: names, `[name]:port`, `*`/`?` wildcards, `!` negation.
        case patterns([String])
    }

    var file: String
    var line: Int
    var marker: Marker
    var hosts: Hosts
    var keyType: String
    var keyBlob: [UInt8]

    /// `name` as known_hosts writes it: "host" for port 22, "[host]:port" otherwise.
    func matches(hostName name: String) -> Bool {
        let name = name.lowercased()
        switch hosts {
        case .hashed(let salt, let hash):
            return Crypto.hmacSHA1(key: salt, data: Array(name.utf8)) == hash
        case .patterns(let patterns):
            var matched = false
            for pattern in patterns {
                let negated = pattern.hasPrefix("!")
                let body = negated ? String(pattern.dropFirst()) : pattern
                if globMatch(Array(body.lowercased().utf8)[...], Array(name.utf8)[...]) {
                    if negated { return false }
                    matched = true
                }
            }
            return matched
        }
    }

    var location: String { "\(file):\(line)" }
}

/// A known_hosts file read line by line: a line we cannot parse is skipped with a warning instead of losing
/// the rest of the file (libssh2's own reader stops at the first such line).
struct KnownHostsFile: Sendable {
    var entries: [KnownHostsEntry] = []
    var warnings: [String] = []

    static func parse(_ contents: String, file: String) -> KnownHostsFile {
        var result = KnownHostsFile()
        for (index, rawLine) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            switch parseLine(line, file: file, number: index + 1) {
            case .success(let entry): result.entries.append(entry)
            case .failure(let problem): result.warnings.append("\(file):\(index + 1): skipped: \(problem.text)")
            }
        }
        return result
    }

    struct Problem: Error { var text: String }

    static func parseLine(_ line: String, file: String, number: Int) -> Result<KnownHostsEntry, Problem> {
        var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var marker = KnownHostsEntry.Marker.none
        if let first = fields.first, first.hasPrefix("@") {
            switch first {
            case "@revoked": marker = .revoked
            case "@cert-authority": marker = .certAuthority
            default: return .failure(Problem(text: "unknown marker \(first)"))
            }
            fields.removeFirst()
        }
        guard fields.count >= 3 else {
            return .failure(Problem(text: "expected \"hosts key-type base64-key [comment]\""))
        }
        guard let blob = Base64.decode(fields[2]), !blob.isEmpty else {
            return .failure(Problem(text: "key is not valid base64"))
        }
        guard keyTypeName(ofKeyBlob: blob) == fields[1] else {
            return .failure(Problem(text: "key type \(fields[1]) does not match the key data"))
        }
        let hosts: KnownHostsEntry.Hosts
        if fields[0].hasPrefix("|") {
            let parts = fields[0].split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[1] == "1", let salt = Base64.decode(parts[2]),
                  let hash = Base64.decode(parts[3]), hash.count == 20 else {
                return .failure(Problem(text: "hashed host is not |1|salt|hash"))
            }
            hosts = .hashed(salt: salt, hash: hash)
        } else {
            let patterns = fields[0].split(separator: ",").map(String.init)
            guard !patterns.isEmpty else { return .failure(Problem(text: "no host names")) }
            hosts = .patterns(patterns)
        }
        return .success(KnownHostsEntry(file: file, line: number, marker: marker, hosts: hosts,
                                        keyType: fields[1], keyBlob: blob))
    }

    /// The line OpenSSH would append for `hostName` (hashed with a fresh 20-byte salt).
    static func hashedLine(hostName: String, keyType: String, keyBlob: [UInt8]) -> String {
        let salt = Crypto.randomBytes(20)
        let hash = Crypto.hmacSHA1(key: salt, data: Array(hostName.lowercased().utf8))
        return "|1|\(Base64.encode(salt))|\(Base64.encode(hash)) \(keyType) \(Base64.encode(keyBlob))"
    }
}

/// OpenSSH's wildcard match: `*` any run of characters, `?` exactly one.
func globMatch(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
    var pattern = pattern
    var text = text
    while let head = pattern.first {
        if head == UInt8(ascii: "*") {
            pattern = pattern.dropFirst()
            if pattern.isEmpty { return true }
            var rest = text
            while true {
                if globMatch(pattern, rest) { return true }
                if rest.isEmpty { return false }
                rest = rest.dropFirst()
            }
        }
        guard let character = text.first else { return false }
        if head != UInt8(ascii: "?") && head != character { return false }
        pattern = pattern.dropFirst()
        text = text.dropFirst()
    }
    return text.isEmpty
}
