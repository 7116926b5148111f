/// Parses the facts script's report (format documented on `FactsScript`). Strict: an unknown record or a
/// queried item missing from the report is an error, because planning from half-understood facts could
/// overwrite something.
public enum FactsParser {
    /// Every item of the query of the family the host reported must be in the report; a host of another
    /// family reports only what it is (the caller refuses it).
    public static func parse(_ output: [UInt8], host: String, candidates: [FactsCandidate]) throws -> HostFacts {
        func fail(_ message: String) -> FactsError { FactsError(host: host, message: message) }
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        guard lines.first == FactsScript.header else {
            throw fail("unexpected output (no '\(FactsScript.header)' header): \(lines.first ?? "")")
        }
        var facts = HostFacts(fingerprint: fingerprint(output))
        var absentFiles: Set<String> = []
        var ended = false
        var index = 1

        // Collects hex lines up to `terminator` into bytes.
        func hexBlock(until terminator: String) throws -> [UInt8] {
            var bytes: [UInt8] = []
            while index < lines.count, lines[index] != terminator {
                for pair in lines[index].split(separator: " ") {
                    guard pair.count == 2, let byte = UInt8(pair, radix: 16) else {
                        throw fail("bad hex '\(pair)' before \(terminator)")
                    }
                    bytes.append(byte)
                }
                index += 1
            }
            guard index < lines.count else { throw fail("missing \(terminator)") }
            index += 1
            return bytes
        }

        while index < lines.count {
            let line = lines[index]
            index += 1
            if line.isEmpty { continue }
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            // `first`: a line of spaces has no words and is refused below like any other unknown line.
            switch words.first ?? "" {
            case "os":
                facts.osRelease = String(line.dropFirst(3))
            case "family" where words.count == 2:
                facts.family = words[1]
            case "ufw" where words.count == 2 && words[1] == "active":
                facts.ufwActive = true
            case "firewalld" where words.count == 2 && words[1] == "running":
                facts.firewalldRunning = true
            case "begin-firewalld-runtime":
                facts.firewalldRuntime = FirewalldZone.parse(String(decoding: try hexBlock(until: "end-firewalld-runtime"), as: UTF8.self))
            case "begin-firewalld-permanent":
                facts.firewalldPermanent = FirewalldZone.parse(String(decoding: try hexBlock(until: "end-firewalld-permanent"), as: UTF8.self))
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
                guard let mode = parseMode(words[2]) else { throw fail("bad mode '\(words[2])' for \(path)") }
                guard index < lines.count, lines[index] == "begin-content" else { throw fail("no content for \(path)") }
                index += 1
                let contents = try hexBlock(until: "end-content")
                facts.files[path] = RemoteFile(contents: contents, mode: mode, owner: words[3], group: words[4])
            case "begin-iptables":
                facts.iptablesSave = String(decoding: try hexBlock(until: "end-iptables"), as: UTF8.self)
            case "iptables" where words.count == 2 && words[1] == "missing":
                facts.iptablesSave = nil
            case "lock" where words.count >= 3 && ["held", "stale"].contains(words[1]):
                facts.runLock = RunLockInfo.parse(restOfLine(line, after: 2))
                facts.runLock?.stale = words[1] == "stale"
                if facts.runLock == nil { throw fail("unreadable run lock: \(line)") }
            case "lock-serial" where words.count == 2:
                facts.lockSerial = words[1]
            case "end-facts":
                ended = true
            default:
                throw fail("unexpected line in facts output: \(line)")
            }
        }
        guard ended else { throw fail("facts output ended early (no end-facts)") }
        guard !facts.family.isEmpty else { throw fail("no family reported") }
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

    /// SHA-256 of the report without its `lock` and `lock-serial` lines: who holds or last took the run lock
    /// (this very run, when apply re-reads the facts under it) is not something the plan depends on.
    static func fingerprint(_ output: [UInt8]) -> String {
        var kept: [UInt8] = []
        kept.reserveCapacity(output.count)
        var start = output.startIndex
        while start < output.endIndex {
            let end = output[start...].firstIndex(of: 10).map { $0 + 1 } ?? output.endIndex
            let line = output[start..<end]
            if !line.starts(with: Array("lock ".utf8)) && !line.starts(with: Array("lock-serial ".utf8)) { kept += line }
            start = end
        }
        return SHA256.hex(kept)
    }

    /// The text after the first `count` space-separated words (paths may contain spaces).
    private static func restOfLine(_ line: String, after count: Int) -> String {
        var rest = Substring(line)
        for _ in 0..<count {
            rest = rest.drop { $0 == " " }
            rest = rest.drop { $0 != " " }
        }
        return String(rest.dropFirst())
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
