/// The run lock's scripts on an in-memory host: what `RunLockScripts` does on a real one, from the script's
/// own lines (the holder's info, the temporary-file cleanup, the journal lines), so unit tests see locking,
/// takeover, cleanup and journal without SSH.
extension InMemoryTransport {
    func runLockScript(_ script: String) -> CommandResult? {
        if script.hasPrefix(RunLockScripts.acquireMarker) { return acquireRunLock(script) }
        if script.hasPrefix(RunLockScripts.releaseMarker) {
            for line in script.split(separator: "\n") {
                if line.contains("printf '%s\\n' "), let start = line.range(of: "printf '%s\\n' "), let end = line.range(of: " >> ") {
                    journalLines += Self.shellWords(String(line[start.upperBound..<end.lowerBound]))
                } else if line.hasPrefix("case $(readlink"), let id = line.range(of: ";id=").map({ line[$0.upperBound...] }) {
                    if let runLock, runLock.contains(";id=" + id.prefix { $0 != ";" } + ";") { self.runLock = nil }
                }
            }
            return CommandResult()
        }
        return nil
    }

    private func acquireRunLock(_ script: String) -> CommandResult {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let separator = "\";session=$(cct_session);command=\""
        guard let infoLine = lines.first(where: { $0.hasPrefix("cct_info=") }), let cut = infoLine.range(of: separator) else {
            return CommandResult(stderr: Array("InMemoryTransport: bad lock script\n".utf8), exitStatus: 1)
        }
        let info = (Self.shellWords(String(infoLine.dropFirst(9)[..<cut.lowerBound])).first ?? "") + ";session=1:1;command="
            + (Self.shellWords(String(infoLine[cut.upperBound...])).first ?? "")
        var out = ""
        if let held = runLock {
            guard !runLockHolderAlive else { return CommandResult(stdout: Array("run-lock held \(held)\n".utf8)) }
            out = "run-lock acquired\nrun-lock took-over \(held)\n"
        } else {
            out = "run-lock acquired\n"
        }
        runLock = info
        runLockHolderAlive = true
        let rest = lines.drop { $0 != "done" }.dropFirst()
        // `[ "$cct_prev" = SERIAL ] && echo run-lock unchanged`: the facts are not read again.
        let previous = runLockSerial ?? "none"
        runLockSerial = RunLockInfo.parse(info)?.id
        let skip = "[ \"$cct_prev\" = "
        if let line = rest.first(where: { $0.hasPrefix(skip) }),
           Self.shellWords(String(line.dropFirst(skip.count).prefix { $0 != " " })).first == previous {
            out += "run-lock unchanged\n"
            for line in rest where line.hasPrefix("for f in ") { out += removeTemporaries(line) }
            return CommandResult(stdout: Array(out.utf8))
        }
        for line in rest where line.hasPrefix("for f in ") { out += removeTemporaries(line) }
        let facts = rest.filter { !$0.hasPrefix("for f in ") }.joined(separator: "\n")
        return CommandResult(stdout: Array(out.utf8) + factsReport(script: facts))
    }

    /// `for f in PREFIX*; do … removed-temporary …`: removes the files with that prefix, saying which.
    private func removeTemporaries(_ line: String) -> String {
        guard let star = line.range(of: "*; do") else { return "" }
        let prefix = Self.shellWords(String(line.dropFirst(9)[..<star.lowerBound])).first ?? ""
        var out = ""
        for path in files.keys.sorted() where path.hasPrefix(prefix) {
            files[path] = nil
            out += "removed-temporary \(path)\n"
        }
        return out
    }

    /// Words of a line of single-quoted (`ShellQuote`) and bare words.
    static func shellWords(_ text: String) -> [String] {
        var words: [String] = [], current = "", inQuote = false, inWord = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if inQuote {
                if c == "'" { inQuote = false } else { current.append(c) }
            } else if c == "'" {
                inQuote = true; inWord = true
            } else if c == "\\", let next = chars.popFirst() {
                current.append(next); inWord = true
            } else if c == " " {
                if inWord { words.append(current) }
                current = ""; inWord = false
            } else {
                current.append(c); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
