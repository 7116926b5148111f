import Foundation

/// An OpenSSH client config file (~/.ssh/config) read into lines and blocks, Includes already read.
/// Only what clusterctl needs is interpreted (see `OpenSSHConfig.lookup`); unknown directives are kept and
/// ignored, as a config written for `ssh` on another platform (UseKeychain, ...) must not break us.
public struct OpenSSHConfig: Sendable {
    /// One directive: keyword lowercased, arguments unquoted, where it came from.
    struct Directive: Sendable {
        var keyword: String
        var arguments: [String]
        var location: String
    }

    indirect enum Item: Sendable {
        /// `Host` patterns: the following directives apply if one matches the alias and no `!` pattern does.
        case host([String])
        /// `Match`: only `Match all` is evaluated; any other criteria make the block not apply (a warning
        /// says so), since clusterctl cannot evaluate `exec`, `localnetwork` and the like as `ssh` would.
        case match(all: Bool)
        case directive(Directive)
        /// The files an `Include` named, each read as its own item list.
        case include([[Item]])
    }

    var items: [Item]
    /// Lines that were skipped and why (Match blocks, bad syntax, unreadable includes).
    public var warnings: [String]
    /// Where `~` and `%d` point (OpenSSH: the user's home directory).
    public var homeDirectory: String

    /// OpenSSH gives up on deeper Include nesting too (READCONF_MAX_DEPTH).
    static let maximumIncludeDepth = 16

    /// Reads `path` (default ~/.ssh/config). A missing file is an empty config, as for `ssh`.
    public static func load(path: String? = nil, homeDirectory: String? = nil) throws -> OpenSSHConfig {
        let home = homeDirectory ?? ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let file = path.map { expandHome($0, home) } ?? home + "/.ssh/config"
        var config = OpenSSHConfig(items: [], warnings: [], homeDirectory: home)
        guard FileManager.default.fileExists(atPath: file) else { return config }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        config.items = config.parseItems(text, file: file, depth: 0)
        return config
    }

    /// Parses config text; Includes are read from disk relative to `homeDirectory`/.ssh.
    public static func parse(_ text: String, file: String = "config", homeDirectory: String) -> OpenSSHConfig {
        var config = OpenSSHConfig(items: [], warnings: [], homeDirectory: homeDirectory)
        config.items = config.parseItems(text, file: file, depth: 0)
        return config
    }

    private mutating func parseItems(_ text: String, file: String, depth: Int) -> [Item] {
        var items: [Item] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let location = "\(file):\(index + 1)"
            guard let (keyword, arguments) = Self.split(String(rawLine)) else { continue }
            switch keyword {
            case "host":
                items.append(.host(arguments))
            case "match":
                let all = arguments.map { $0.lowercased() } == ["all"]
                if !all { warnings.append("\(location): Match \(arguments.joined(separator: " ")) is not evaluated; its block is skipped") }
                items.append(.match(all: all))
            case "include":
                items.append(.include(readIncludes(arguments, location: location, depth: depth)))
            default:
                items.append(.directive(Directive(keyword: keyword, arguments: arguments, location: location)))
            }
        }
        return items
    }

    /// Include arguments are globs; relative ones are under ~/.ssh (for a user config, as in `ssh`).
    private mutating func readIncludes(_ patterns: [String], location: String, depth: Int) -> [[Item]] {
        guard depth < Self.maximumIncludeDepth else {
            warnings.append("\(location): Include nested deeper than \(Self.maximumIncludeDepth) levels; skipped")
            return []
        }
        var files: [[Item]] = []
        for pattern in patterns {
            var path = Self.expandHome(pattern, homeDirectory)
            if !path.hasPrefix("/") { path = homeDirectory + "/.ssh/" + path }
            for match in Self.glob(path) {
                guard let text = try? String(contentsOfFile: match, encoding: .utf8) else {
                    warnings.append("\(location): cannot read included file \(match)")
                    continue
                }
                files.append(parseItems(text, file: match, depth: depth + 1))
            }
        }
        return files
    }

    /// The keyword (lowercased) and arguments of one line; nil for blank and comment lines.
    /// `Keyword value`, `Keyword=value` and `Keyword = value` are all allowed; arguments may be quoted with
    /// double quotes; an unquoted word starting with `#` begins a comment.
    static func split(_ line: String) -> (String, [String])? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quoted = false
        var keywordDone = false
        for character in line {
            if quoted {
                if character == "\"" { quoted = false } else { current.append(character) }
                continue
            }
            // One "=" may stand between the keyword and the first argument, with or without spaces.
            let equals = character == "=" && !keywordDone && ((words.isEmpty && inWord) || (words.count == 1 && !inWord))
            let separator = character == " " || character == "\t" || character == "\r" || equals
            if separator {
                if inWord { words.append(current); current = ""; inWord = false }
                if character == "=" { keywordDone = true }
                continue
            }
            if character == "#" && !inWord { break }
            if character == "\"" { quoted = true } else { current.append(character) }
            inWord = true
        }
        if inWord { words.append(current) }
        guard let keyword = words.first else { return nil }
        return (keyword.lowercased(), Array(words.dropFirst()))
    }

    static func expandHome(_ path: String, _ home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst() }
        return path
    }

    /// glob(3), sorted; no match is no file (as in `ssh`).
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}
