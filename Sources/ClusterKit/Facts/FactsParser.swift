/// Parses the facts script's report (format documented on `FactsScript`). Strict: an unknown record or a
/// queried item missing from the report is an error, because planning from half-understood facts could
/// overwrite something.
public enum FactsParser {
    /// Every item of the query of the family the host reported must be in the report; a host of another
    /// family reports only what it is (the caller refuses it).
    public static func parse(_ output: [UInt8], host: String, candidates: [FactsCandidate]) throws -> HostFacts {
        try output.withUnsafeBufferPointer { text in
            var report = FactsReport(text: text, host: host)
            return try report.parse(candidates: candidates)
        }
    }

    /// Octal from `stat -c %a` ("644", "4755") or symbolic from `ls -ld` ("-rw-r--r--", "-rwsr-xr-x.").
    static func parseMode(_ text: String) -> Int32? {
        if text.allSatisfy({ ("0"..."7").contains($0) }) { return Int32(text, radix: 8) }
        let chars = Array(text.dropFirst().prefix(9))
        guard chars.count == 9 else { return nil }
        var mode: Int32 = 0
        let specialBits: [Int32] = [0o4000, 0o2000, 0o1000]
        for (i, c) in chars.enumerated() {
            let bit = Int32(1) << Int32(8 - i)
            switch c {
            case "r", "w", "x": mode |= bit
            case "s", "t": mode |= bit | specialBits[i / 3]
            case "S", "T": mode |= specialBits[i / 3]
            case "-": break
            default: return nil
            }
        }
        return mode
    }
}

/// One pass over a report's bytes, line by line (lines end at `\n`; the text after the last one is a line
/// too). Record lines become Strings; byte dumps are decoded in place (`ODHex`).
private struct FactsReport {
    let text: UnsafeBufferPointer<UInt8>
    let host: String
    /// Where the next line starts; nil after the last line.
    private var next: Int? = 0
    /// Dumps whose bytes the parser normalised, with what the host's od would have printed for the result:
    /// the fingerprint hashes that instead (see `fingerprint`).
    private var rewrittenDumps: [(range: Range<Int>, od: [UInt8])] = []

    init(text: UnsafeBufferPointer<UInt8>, host: String) {
        self.text = text
        self.host = host
    }

    func fail(_ message: String) -> FactsError { FactsError(host: host, message: message) }

    mutating func parse(candidates: [FactsCandidate]) throws -> HostFacts {
        let first = nextLine()!
        guard equals(first, FactsScript.header) else {
            throw fail("unexpected output (no '\(FactsScript.header)' header): \(string(first))")
        }
        var facts = HostFacts()
        var absentFiles: Set<String> = []
        var ended = false
        while let line = nextLine() {
            if line.isEmpty { continue }
            let words = words(of: line)
            // `first`: a line of spaces has no words and is refused below like any other unknown line.
            switch words.first ?? "" {
            case "os":
                facts.osRelease = string(min(line.lowerBound + 3, line.upperBound)..<line.upperBound)
            case "family" where words.count == 2:
                facts.family = words[1]
            case "ufw" where words.count == 2 && words[1] == "active":
                facts.ufwActive = true
            case "firewalld" where words.count == 2 && words[1] == "running":
                facts.firewalldRunning = true
            case "begin-firewalld-runtime":
                facts.firewalldRuntime = FirewalldZone.parse(String(decoding: try hexBlock(until: "end-firewalld-runtime").bytes, as: UTF8.self))
            case "begin-firewalld-permanent":
                facts.firewalldPermanent = FirewalldZone.parse(String(decoding: try hexBlock(until: "end-firewalld-permanent").bytes, as: UTF8.self))
            case "selinux" where words.count == 2:
                facts.selinuxMode = words[1]
            case "sebool" where words.count == 3 && ["on", "off"].contains(words[2]):
                facts.selinuxBooleans[words[1]] = words[2] == "on"
            case "seport" where words.count == 3 && ["labeled", "unlabeled"].contains(words[2]):
                facts.selinuxPorts[words[1]] = words[2] == "labeled"
            case "package" where words.count == 3 && ["installed", "absent"].contains(words[2]):
                facts.packages[words[1]] = words[2] == "installed"
            case "service" where words.count == 4:
                facts.services[words[1]] = ServiceFacts(enabled: words[2] == "enabled", running: words[3] == "running")
            case "file" where words.count >= 3 && words[1] == "absent":
                absentFiles.insert(restOfLine(line, after: 2))
            case "file" where words.count >= 6 && words[1] == "present":
                let path = restOfLine(line, after: 5)
                guard let mode = FactsParser.parseMode(words[2]) else { throw fail("bad mode '\(words[2])' for \(path)") }
                guard let begin = nextLine(), equals(begin, "begin-content") else { throw fail("no content for \(path)") }
                let contents = try hexBlock(until: "end-content").bytes
                facts.files[path] = RemoteFile(contents: contents, mode: mode, owner: words[3], group: words[4])
            case "begin-iptables":
                let (raw, dump) = try hexBlock(until: "end-iptables")
                let normalized = IptablesSaveNormalization.normalize(raw)
                if normalized != raw { rewrittenDumps.append((dump, ODHex.encode(normalized))) }
                facts.iptablesSave = String(decoding: normalized, as: UTF8.self)
            case "iptables" where words.count == 2 && words[1] == "missing":
                facts.iptablesSave = nil
            case "lock" where words.count >= 3 && ["held", "stale"].contains(words[1]):
                facts.runLock = RunLockInfo.parse(restOfLine(line, after: 2))
                facts.runLock?.stale = words[1] == "stale"
                if facts.runLock == nil { throw fail("unreadable run lock: \(string(line))") }
            case "lock-serial" where words.count == 2:
                facts.lockSerial = words[1]
            case "end-facts":
                ended = true
            default:
                throw fail("unexpected line in facts output: \(string(line))")
            }
        }
        guard ended else { throw fail("facts output ended early (no end-facts)") }
        guard !facts.family.isEmpty else { throw fail("no family reported") }
        facts.fingerprint = fingerprint()
        guard let query = candidates.first(where: { $0.family.key == facts.family })?.query else { return facts }
        for package in query.packages where facts.packages[package] == nil {
            throw fail("no state reported for package \(package)")
        }
        if query.asksSELinux && facts.selinuxMode == nil { throw fail("no SELinux mode reported") }
        for boolean in query.selinuxBooleans where facts.selinuxBooleans[boolean] == nil {
            throw fail("no state reported for SELinux boolean \(boolean)")
        }
        for service in query.services where facts.services[service] == nil {
            throw fail("no state reported for service \(service)")
        }
        for path in query.files where facts.files[path] == nil && !absentFiles.contains(path) {
            throw fail("no state reported for file \(path)")
        }
        return facts
    }

    /// The bytes of the dump lines up to `terminator`, and where those lines are in the report.
    private mutating func hexBlock(until terminator: String) throws -> (bytes: [UInt8], dump: Range<Int>) {
        let start = next ?? text.count
        var bytes: [UInt8] = []
        while let line = nextLine() {
            if equals(line, terminator) { return (bytes, start..<line.lowerBound) }
            if let bad = ODHex.decode(text, line: line, into: &bytes) {
                throw fail("bad hex '\(string(bad))' before \(terminator)")
            }
        }
        throw fail("missing \(terminator)")
    }

    /// SHA-256 of the report without its `lock` and `lock-serial` lines: who holds or last took the run lock
    /// (this very run, when apply re-reads the facts under it) is not something the plan depends on. A dump the parser normalised
    /// (iptables-save's comments and counters) counts as the normalised dump, which is what the host printed
    /// when it normalised it itself: fingerprints stay those of saved plans from before.
    private func fingerprint() -> String {
        var kept: [UInt8] = []
        kept.reserveCapacity(text.count)
        var rewrites = rewrittenDumps[...]
        var start = 0
        while start < text.count {
            if let rewrite = rewrites.first, rewrite.range.lowerBound == start {
                kept += rewrite.od
                start = rewrite.range.upperBound
                rewrites = rewrites.dropFirst()
                continue
            }
            let end = lineEnd(from: start).map { $0 + 1 } ?? text.count
            if !hasPrefix(start..<end, "lock ") && !hasPrefix(start..<end, "lock-serial ") { kept += text[start..<end] }
            start = end
        }
        return SHA256.hex(kept)
    }

    private mutating func nextLine() -> Range<Int>? {
        guard let start = next else { return nil }
        if let end = lineEnd(from: start) {
            next = end + 1
            return start..<end
        }
        next = nil
        return start..<text.count
    }

    private func lineEnd(from start: Int) -> Int? {
        var index = start
        while index < text.count {
            if text[index] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: text[range]), as: UTF8.self)
    }

    private func equals(_ line: Range<Int>, _ expected: String) -> Bool {
        line.count == expected.utf8.count && hasPrefix(line, expected)
    }

    private func hasPrefix(_ line: Range<Int>, _ prefix: String) -> Bool {
        line.count >= prefix.utf8.count && zip(text[line], prefix.utf8).allSatisfy { $0 == $1 }
    }

    /// The line's space-separated words.
    private func words(of line: Range<Int>) -> [String] {
        text[line].split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The text after the first `count` space-separated words (paths may contain spaces).
    private func restOfLine(_ line: Range<Int>, after count: Int) -> String {
        var index = line.lowerBound
        for _ in 0..<count {
            while index < line.upperBound && text[index] == UInt8(ascii: " ") { index += 1 }
            while index < line.upperBound && text[index] != UInt8(ascii: " ") { index += 1 }
        }
        return string(min(index + 1, line.upperBound)..<line.upperBound)
    }
}
