/// Turns a parsed JSON tree into an `Inventory`, collecting every problem instead of stopping at the first.
///
/// Each `decode…` function returns nil when its part is unusable (and has reported why); checks that span
/// hosts (duplicates, required roles) run on whatever decoded, so one bad host does not hide another's problems.
struct InventoryDecoder {
    private(set) var problems: [InventoryError.Problem] = []

    static let rootKeys = ["os", "ssh", "memcached", "php", "firewall", "hosts"]
    static let sshKeys = ["user", "port", "identityFile", "knownHostsFile", "become", "jumpHost", "config"]
    static let memcachedKeys = ["port", "user", "maxConnections", "cacheSizeMB", "extraOptions"]
    static let phpKeys = ["sessionHandler", "sessionRedundancy"]
    static let firewallKeys = ["allowFrom"]
    static let hostKeys = ["roles", "address", "privateAddress", "os", "ssh"]
    /// memcached options that clusterctl already sets from other fields: a second copy would silently win or lose.
    static let managedOptions: [String: String] = [
        "-p": "memcached.port", "--port": "memcached.port", "-u": "memcached.user", "--user": "memcached.user",
        "-m": "memcached.cacheSizeMB", "--memory-limit": "memcached.cacheSizeMB",
        "-c": "memcached.maxConnections", "--conn-limit": "memcached.maxConnections",
        "-l": "hosts.<name>.privateAddress", "--listen": "hosts.<name>.privateAddress",
    ]

    mutating func report(_ path: String, _ position: SourcePosition?, _ message: String) {
        problems.append(.init(path: path.isEmpty ? "(root)" : path, position: position, message: message))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    // MARK: Document

    mutating func decode(_ root: JSONNode) -> Inventory? {
        guard let members = object(root, path: "", allowed: Self.rootKeys) else { return nil }
        let ssh = members["ssh"].flatMap { decodeSSH($0.value, path: "ssh", base: SSHSettings()) } ?? SSHSettings()
        let memcached = members["memcached"].map { decodeMemcached($0.value) } ?? MemcachedSettings()
        let php = members["php"].map { decodePHP($0.value) } ?? PHPSettings()
        let firewall = members["firewall"].map { decodeFirewall($0.value) } ?? FirewallSettings()
        guard let hostsMember = members["hosts"] else {
            report("hosts", root.position, "missing required key \"hosts\"")
            return nil
        }
        let os = string(members["os"], path: "os", rule: Self.osProblem)
        let hosts = decodeHosts(hostsMember.value, ssh: ssh, os: os)
        let portNode = (members["memcached"]?.value).flatMap { node -> JSONNode? in
            guard case .object(let fields) = node.value else { return nil }
            return fields.first { $0.key == "port" }?.value
        }
        checkMemcachedPort(memcached.port, position: portNode?.position ?? members["memcached"]?.value.position ?? root.position,
                           hosts: hosts)
        checkSessionRedundancy(php.sessionRedundancy, php: members["php"]?.value, hosts: hosts)
        return problems.isEmpty ? Inventory(ssh: ssh, memcached: memcached, php: php, firewall: firewall, hosts: hosts) : nil
    }

    // MARK: Sections

    private mutating func decodeMemcached(_ node: JSONNode) -> MemcachedSettings {
        var settings = MemcachedSettings()
        guard let members = object(node, path: "memcached", allowed: Self.memcachedKeys) else { return settings }
        if let port = integer(members["port"], path: "memcached.port", rule: ValueRules.portProblem) { settings.port = port }
        if let user = string(members["user"], path: "memcached.user", rule: ValueRules.userNameProblem) { settings.user = user }
        if let value = integer(members["maxConnections"], path: "memcached.maxConnections", rule: Self.positive) {
            settings.maxConnections = value
        }
        if let value = integer(members["cacheSizeMB"], path: "memcached.cacheSizeMB", rule: Self.positive) {
            settings.cacheSizeMB = value
        }
        if let options = members["extraOptions"] {
            settings.extraOptions = stringArray(options.value, path: "memcached.extraOptions") { word in
                if let problem = ValueRules.optionWordProblem(word) { return problem }
                // "--listen=IP" and "-lIP" (getopt's attached argument) name the option too.
                let name = word.hasPrefix("--") ? String(word.split(separator: "=", maxSplits: 1).first ?? "")
                    : String(word.prefix(2))
                if let field = Self.managedOptions[name] {
                    return "\"\(name)\" is set by clusterctl from \(field); set it there instead"
                }
                return nil
            }
        }
        return settings
    }

    private mutating func decodePHP(_ node: JSONNode) -> PHPSettings {
        var settings = PHPSettings()
        guard let members = object(node, path: "php", allowed: Self.phpKeys) else { return settings }
        let names = SessionHandler.allCases.map(\.rawValue)
        if let name = string(members["sessionHandler"], path: "php.sessionHandler", rule: { value in
            guard SessionHandler(rawValue: value) == nil else { return nil }
            let hint = ValueRules.suggestion(for: value, among: names).map { "; did you mean \"\($0)\"?" } ?? ""
            return "unknown session handler \(ValueRules.quoted(value)) (expected \"memcache\" or \"memcached\")\(hint)"
        }), let handler = SessionHandler(rawValue: name) {
            settings.sessionHandler = handler
        }
        if let copies = integer(members["sessionRedundancy"], path: "php.sessionRedundancy", rule: Self.positive) {
            settings.sessionRedundancy = copies
        }
        return settings
    }

    private mutating func decodeFirewall(_ node: JSONNode) -> FirewallSettings {
        var settings = FirewallSettings()
        guard let members = object(node, path: "firewall", allowed: Self.firewallKeys) else { return settings }
        if let allowFrom = members["allowFrom"] {
            settings.allowFrom = stringArray(allowFrom.value, path: "firewall.allowFrom", rejectDuplicates: true,
                                              rule: ValueRules.ipv4OrCIDRProblem)
        }
        return settings
    }

    /// The memcached port is dropped for everyone but the web hosts: on a port that SSH or HTTP also uses,
    /// the firewall would lock the operator out or take the web site down.
    private mutating func checkMemcachedPort(_ port: Int, position: SourcePosition, hosts: [Host]) {
        if port == 80 || port == 443 {
            report("memcached.port", position, "port \(port) is opened to everyone on web hosts; memcached needs a port of its own")
        }
        for host in hosts where host.roles.contains(.memcache) && host.ssh.port == port {
            report("memcached.port", position, "port \(port) is also the SSH port of memcache host \(host.name); "
                   + "the firewall would drop SSH from everyone but the web hosts")
        }
    }

    /// A session cannot have more copies than there are memcache hosts to hold them.
    private mutating func checkSessionRedundancy(_ copies: Int, php: JSONNode?, hosts: [Host]) {
        let servers = hosts.filter { $0.roles.contains(.memcache) }.count
        guard copies > 1, servers > 0, copies > servers, let php else { return }
        var position = php.position
        if case .object(let fields) = php.value, let node = fields.first(where: { $0.key == "sessionRedundancy" })?.value {
            position = node.position
        }
        report("php.sessionRedundancy", position, "\(copies) copies of each session need \(copies) memcache hosts; "
               + "the inventory has \(servers) (at most \(servers))")
    }

    /// `os` names a family key; anything else would make plan refuse every host it is given to.
    static func osProblem(_ value: String) -> String? {
        guard OSFamilies.releases(value).isEmpty else { return nil }
        let keys = OSFamilies.releaseKeys
        let hint = ValueRules.suggestion(for: value, among: keys).map { "did you mean \"\($0)\"? " } ?? ""
        return "unknown OS family \(ValueRules.quoted(value)); \(hint)supported: " + keys.joined(separator: ", ")
    }

    static func positive(_ value: Int) -> String? { value > 0 ? nil : "must be positive, found \(value)" }

    // MARK: Generic typed accessors (report and return nil on mismatch)

    /// Members of an object by key; unknown keys are reported with a did-you-mean hint and dropped.
    mutating func object(_ node: JSONNode, path: String, allowed: [String]) -> [String: JSONMember]? {
        guard case .object(let members) = node.value else {
            report(path, node.position, "must be an object, found \(node.kindDescription)")
            return nil
        }
        var known: [String: JSONMember] = [:]
        for member in members {
            if allowed.contains(member.key) {
                known[member.key] = member
                continue
            }
            let hint = ValueRules.suggestion(for: member.key, among: allowed).map { "did you mean \"\($0)\"?" }
                ?? "expected one of: " + allowed.joined(separator: ", ")
            report(Self.join(path, member.key), member.keyPosition, "unknown key \(ValueRules.quoted(member.key)); \(hint)")
        }
        return known
    }

    /// A string value; nil member = absent (not an error: callers handle required keys).
    mutating func string(_ member: JSONMember?, path: String, rule: (String) -> String?) -> String? {
        guard let member else { return nil }
        return string(member.value, path: path, rule: rule)
    }

    mutating func string(_ node: JSONNode, path: String, rule: (String) -> String?) -> String? {
        guard case .string(let value) = node.value else {
            report(path, node.position, "must be a string, found \(node.kindDescription)")
            return nil
        }
        if let problem = rule(value) {
            report(path, node.position, problem)
            return nil
        }
        return value
    }

    mutating func integer(_ member: JSONMember?, path: String, rule: (Int) -> String?) -> Int? {
        guard let node = member?.value else { return nil }
        guard case .number(let text) = node.value else {
            report(path, node.position, "must be an integer, found \(node.kindDescription)")
            return nil
        }
        guard !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            report(path, node.position, "must be an integer, found \(text)")
            return nil
        }
        guard let value = Int(text), value <= Int(Int32.max), value >= Int(Int32.min) else {
            report(path, node.position, "\(text) is out of range")
            return nil
        }
        if let problem = rule(value) {
            report(path, node.position, problem)
            return nil
        }
        return value
    }

    /// Strings of an array, each checked. With `rejectDuplicates`, a repeated value is reported (for lists
    /// where a repeat would render a duplicate line, such as firewall sources).
    mutating func stringArray(_ node: JSONNode, path: String, rejectDuplicates: Bool = false,
                              rule: (String) -> String?) -> [String] {
        guard case .array(let elements) = node.value else {
            report(path, node.position, "must be an array, found \(node.kindDescription)")
            return []
        }
        var values: [String] = []
        for (index, element) in elements.enumerated() {
            let elementPath = "\(path)[\(index)]"
            guard let value = string(element, path: elementPath, rule: rule) else { continue }
            if rejectDuplicates, values.contains(value) {
                report(elementPath, element.position, "\(ValueRules.quoted(value)) is listed twice")
                continue
            }
            values.append(value)
        }
        return values
    }
}
