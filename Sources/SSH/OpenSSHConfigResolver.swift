import Foundation

/// What an OpenSSH client config says about one alias, for the directives clusterctl uses. As in `ssh`, the
/// first value found wins (so specific `Host` blocks go first and `Host *` last); IdentityFile accumulates.
public struct OpenSSHHostEntry: Sendable, Equatable {
    /// HostName with `%h` (the alias) and `%%` expanded.
    public var hostName: String?
    public var user: String?
    public var port: Int?
    /// As written (tokens and `~` not expanded), in order, without repeats.
    public var identityFiles: [String] = []
    /// As written: hops separated by commas, or "none".
    public var proxyJump: String?
    /// Set when a ProxyCommand (not "none") applies: clusterctl cannot run one.
    public var proxyCommand: String?
    /// As written (tokens and `~` not expanded).
    public var userKnownHostsFiles: [String]?
    /// Where each value came from (file:line), for error messages.
    var locations: [String: String] = [:]
}

/// The inventory's own values for a host: those given win over the OpenSSH config.
public struct SSHExplicitSettings: Sendable, Equatable {
    public var user: String?
    public var port: Int?
    public var identityFiles: [String]?
    public var knownHostsFile: String?
    public var jumpHosts: [JumpHost]?

    public init(user: String? = nil, port: Int? = nil, identityFiles: [String]? = nil, knownHostsFile: String? = nil,
                jumpHosts: [JumpHost]? = nil) {
        self.user = user
        self.port = port
        self.identityFiles = identityFiles
        self.knownHostsFile = knownHostsFile
        self.jumpHosts = jumpHosts
    }
}

/// Where and how to connect, all tokens and `~` expanded; feed it to `SSHClientConfig.apply`.
public struct SSHEffectiveSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    /// Empty: the SSH module's defaults (~/.ssh/id_ed25519, id_ecdsa, id_rsa).
    public var identityFiles: [String]
    public var knownHostsFile: String
    public var jumpHosts: [JumpHost]
}

public struct OpenSSHConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension OpenSSHConfig {
    /// The directives that apply to `alias` (the name as typed: inventory address or jump host name).
    public func lookup(_ alias: String) -> OpenSSHHostEntry {
        var entry = OpenSSHHostEntry()
        walk(items, active: true, alias: alias.lowercased(), into: &entry)
        if let name = entry.hostName {
            entry.hostName = name.replacingOccurrences(of: "%%", with: "\u{0}")
                .replacingOccurrences(of: "%h", with: alias).replacingOccurrences(of: "\u{0}", with: "%")
        }
        return entry
    }

    /// Included files start active, their Host lines count only inside them, and nothing in them applies
    /// when the Include itself sits in a block that does not apply (OpenSSH's read_config_file_depth).
    private func walk(_ items: [Item], active initial: Bool, alias: String, into entry: inout OpenSSHHostEntry) {
        var active = initial
        for item in items {
            switch item {
            case .host(let patterns):
                active = initial && Self.hostMatches(alias, patterns)
            case .match(let all):
                active = initial && all
            case .include(let files):
                if active { for file in files { walk(file, active: true, alias: alias, into: &entry) } }
            case .directive(let directive):
                if active { apply(directive, to: &entry) }
            }
        }
    }

    /// OpenSSH's Host rule: some pattern matches and no negated one does (case-insensitive globs).
    static func hostMatches(_ alias: String, _ patterns: [String]) -> Bool {
        var matched = false
        for pattern in patterns {
            let negated = pattern.hasPrefix("!")
            let body = Array((negated ? String(pattern.dropFirst()) : pattern).lowercased().utf8)
            if globMatch(body[...], Array(alias.utf8)[...]) {
                if negated { return false }
                matched = true
            }
        }
        return matched
    }

    private func apply(_ directive: Directive, to entry: inout OpenSSHHostEntry) {
        let arguments = directive.arguments
        guard let first = arguments.first else { return }
        func firstWins<T>(_ path: WritableKeyPath<OpenSSHHostEntry, T?>, _ value: T?) {
            guard entry[keyPath: path] == nil, let value else { return }
            entry[keyPath: path] = value
            entry.locations[directive.keyword] = directive.location
        }
        switch directive.keyword {
        case "hostname": firstWins(\.hostName, first)
        case "user": firstWins(\.user, first)
        case "port": firstWins(\.port, Int(first).flatMap { (1...65535).contains($0) ? $0 : nil })
        case "identityfile":
            if !entry.identityFiles.contains(first) { entry.identityFiles.append(first) }
        // ProxyJump and ProxyCommand set the same thing in `ssh`: whichever comes first wins.
        case "proxyjump" where entry.proxyJump == nil && entry.proxyCommand == nil:
            firstWins(\.proxyJump, first)
        case "proxycommand" where entry.proxyJump == nil && entry.proxyCommand == nil:
            if first.lowercased() == "none" { entry.proxyJump = "none" } else { firstWins(\.proxyCommand, arguments.joined(separator: " ")) }
        case "userknownhostsfile": firstWins(\.userKnownHostsFiles, arguments)
        default: break  // unknown or unused directives are not errors
        }
    }

    /// Host, port, user, identity files, known_hosts and jump hosts for `alias`: the inventory's explicit
    /// values first, then this config, then defaults (port 22, `defaultUser` or the local user,
    /// ~/.ssh/known_hosts). Jump hosts named in ProxyJump are resolved through this config too.
    public func effectiveSettings(for alias: String, explicit: SSHExplicitSettings = SSHExplicitSettings(),
                                  defaultUser: String? = nil) throws -> SSHEffectiveSettings {
        let entry = lookup(alias)
        if explicit.jumpHosts == nil, let command = entry.proxyCommand {
            throw OpenSSHConfigError(description: "\(entry.locations["proxycommand"] ?? "ssh config"): ProxyCommand "
                + "\(command) applies to \(alias), and clusterctl cannot run proxy commands; use ProxyJump")
        }
        let host = entry.hostName ?? alias
        let port = explicit.port ?? entry.port ?? 22
        let user = explicit.user ?? entry.user ?? defaultUser ?? Self.localUser
        let tokens = Tokens(home: homeDirectory, host: host, alias: alias, port: port, user: user)
        let identityFiles = try explicit.identityFiles
            ?? entry.identityFiles.map { try expand($0, tokens, entry.locations["identityfile"]) }
        let knownHosts: String
        if let explicitFile = explicit.knownHostsFile {
            knownHosts = explicitFile
        } else if let file = entry.userKnownHostsFiles?.first {
            // "none": no user file; strict checking then knows no host, which is the safe reading.
            knownHosts = file.lowercased() == "none" ? "/dev/null" : try expand(file, tokens, entry.locations["userknownhostsfile"])
        } else {
            knownHosts = homeDirectory + "/.ssh/known_hosts"
        }
        let jumps = try explicit.jumpHosts
            ?? entry.proxyJump.map { try resolveJumps($0, location: entry.locations["proxyjump"], depth: 0) } ?? []
        return SSHEffectiveSettings(host: host, port: port, user: user, identityFiles: identityFiles,
                                    knownHostsFile: knownHosts, jumpHosts: jumps)
    }

    /// Each hop is an alias of its own (HostName, User, Port, IdentityFile from the config; user@ and :port
    /// in the ProxyJump value win). The first hop's own ProxyJump is followed, as `ssh -J` does.
    private func resolveJumps(_ value: String, location: String?, depth: Int) throws -> [JumpHost] {
        if value.lowercased() == "none" { return [] }
        guard depth < 8 else {
            throw OpenSSHConfigError(description: "\(location ?? "ssh config"): ProxyJump chain too long (a loop?)")
        }
        var result: [JumpHost] = []
        for (index, text) in value.split(separator: ",").map(String.init).enumerated() {
            let hop: JumpHost
            do { hop = try JumpHost(parsing: text) } catch {
                throw OpenSSHConfigError(description: "\(location ?? "ssh config"): ProxyJump: \(error)")
            }
            let entry = lookup(hop.host)
            let host = entry.hostName ?? hop.host
            let port = JumpHost.hasPort(text) ? hop.port : entry.port ?? 22
            let user = hop.user ?? entry.user ?? Self.localUser
            let tokens = Tokens(home: homeDirectory, host: host, alias: hop.host, port: port, user: user)
            let files = try entry.identityFiles.map { try expand($0, tokens, entry.locations["identityfile"]) }
            if index == 0, let own = entry.proxyJump {
                result += try resolveJumps(own, location: entry.locations["proxyjump"], depth: depth + 1)
            }
            result.append(JumpHost(host: host, port: port, user: user, identityFiles: files))
        }
        return result
    }

    struct Tokens {
        var home, host, alias: String
        var port: Int
        var user: String
    }

    /// `~` and OpenSSH's % tokens for file names: %% %d %h %i %L %l %n %p %r %u. Others (%C, %k, ...) are
    /// refused rather than guessed, as `ssh` refuses unknown ones.
    func expand(_ text: String, _ tokens: Tokens, _ location: String?) throws -> String {
        var output = ""
        var iterator = Self.expandHome(text, homeDirectory).makeIterator()
        while let character = iterator.next() {
            guard character == "%" else { output.append(character); continue }
            guard let token = iterator.next() else {
                throw OpenSSHConfigError(description: "\(location ?? "ssh config"): \(text): lone % at the end")
            }
            switch token {
            case "%": output += "%"
            case "d": output += tokens.home
            case "h": output += tokens.host
            case "i": output += String(geteuid())
            case "L": output += String(Self.localHostName.prefix { $0 != "." })
            case "l": output += Self.localHostName
            case "n": output += tokens.alias
            case "p": output += String(tokens.port)
            case "r": output += tokens.user
            case "u": output += Self.localUser
            default:
                throw OpenSSHConfigError(description: "\(location ?? "ssh config"): \(text): token %\(token) is not supported")
            }
        }
        return output
    }

    static var localUser: String {
        getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "root"
    }

    static var localHostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension JumpHost {
    /// Whether a hop's text names its port (`host:2222`, `[v6]:2222`), as opposed to getting 22 by default.
    static func hasPort(_ text: String) -> Bool {
        let hostPart = text.split(separator: "@").last.map(String.init) ?? text
        if hostPart.hasPrefix("[") { return hostPart.contains("]:") }
        return hostPart.filter { $0 == ":" }.count == 1
    }
}

extension SSHClientConfig {
    /// Takes host, port, user, identity files, known_hosts file and jump hosts from `settings`.
    public mutating func apply(_ settings: SSHEffectiveSettings) {
        host = settings.host
        port = settings.port
        user = settings.user
        identityFiles = settings.identityFiles
        knownHostsFile = settings.knownHostsFile
        jumpHosts = settings.jumpHosts
    }
}
