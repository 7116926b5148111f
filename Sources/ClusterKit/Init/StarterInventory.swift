import Foundation

/// `clusterctl init`: a first inventory from a list of memcache and web addresses.
///
/// The defaults are written out (taken from the model's own defaults, so they cannot drift), so the operator
/// sees each knob in the file; the README explains them. The text is checked by `InventoryLoader`
/// before anything is written: init never leaves a file that `validate` would refuse.
public struct StarterInventory: Sendable, Equatable {
    public struct StarterHost: Sendable, Equatable {
        public var name: String
        public var roles: [Role]
        public var address: String
        public var privateAddress: String
    }

    /// A bad argument, phrased for the command line (it names the option and says what to write instead).
    public struct ArgumentProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    public enum WriteError: Error, Sendable, Equatable, CustomStringConvertible {
        case exists(String)
        case cannotWrite(String, reason: String)

        public var description: String {
            switch self {
            case .exists(let path):
                "\(path) already exists; init does not overwrite it. Choose another file with --out FILE, "
                    + "or move \(path) away and run init again."
            case .cannotWrite(let path, let reason):
                "cannot create \(path): \(reason). Check that its directory exists and is writable, "
                    + "or choose another file with --out FILE."
            }
        }
    }

    public var user: String
    /// Memcache hosts first (mc1, mc2, …), then web-only hosts (web1, …), each in argument order. An address
    /// given to both --memcache and --web is one host with both roles, named as a memcache host.
    public var hosts: [StarterHost]

    /// `memcache` and `web` are `ADDRESS` or `ADDRESS=PRIVATE_IPV4`, as typed after --memcache and --web.
    public init(memcache: [String], web: [String], user: String) throws(ArgumentProblem) {
        if let problem = ValueRules.userNameProblem(user) {
            throw ArgumentProblem(description: "--user: \(problem). Give the SSH login, e.g. --user root.")
        }
        guard !memcache.isEmpty, !web.isEmpty else {
            let missing = memcache.isEmpty ? "--memcache" : "--web"
            throw ArgumentProblem(description: "\(missing) needs at least one address: a cluster has at least one "
                                  + "memcache host and one web host, e.g. --memcache 10.0.0.5 --web 10.0.0.11 10.0.0.12.")
        }
        self.user = user
        var hosts: [StarterHost] = []
        for (option, values, role) in [("--memcache", memcache, Role.memcache), ("--web", web, Role.web)] {
            var seen = Set<String>()
            for value in values {
                let (address, privateAddress) = try Self.parse(value, option: option)
                guard seen.insert(address.lowercased()).inserted else {
                    throw ArgumentProblem(description: "\(option) \(address) is given twice; list each host once.")
                }
                if let index = hosts.firstIndex(where: { $0.address.lowercased() == address.lowercased() }) {
                    // Same host in both lists: one host, both roles. Its private address must agree.
                    guard hosts[index].privateAddress == privateAddress else {
                        throw ArgumentProblem(description: "\(address) is given with private address "
                                              + "\(hosts[index].privateAddress) to --memcache and \(privateAddress) to --web; "
                                              + "give the same one to both (or leave it out of one).")
                    }
                    hosts[index].roles.append(role)
                    continue
                }
                if let other = hosts.first(where: { $0.privateAddress == privateAddress }) {
                    throw ArgumentProblem(description: "\(option) \(value): private address \(privateAddress) is already "
                                          + "\(other.name)'s (\(other.address)); every host needs its own.")
                }
                let number = hosts.filter { $0.roles.first == role }.count + 1
                hosts.append(StarterHost(name: role == .memcache ? "mc\(number)" : "web\(number)", roles: [role],
                                         address: address, privateAddress: privateAddress))
            }
        }
        self.hosts = hosts
        // Anything the checks above missed (a rule added to the loader later) still stops init here.
        do {
            _ = try InventoryLoader.load(text: json, file: "(init)")
        } catch {
            throw ArgumentProblem(description: "these addresses would not make a valid inventory:\n\(error.description)\n"
                                  + "Change the addresses named above and run init again.")
        }
    }

    /// `ADDRESS` or `ADDRESS=PRIVATE_IPV4` → (address, private address). Without `=`, the address must be an
    /// IPv4 address, which then doubles as the private one (configs and firewall rules need IPv4).
    static func parse(_ value: String, option: String) throws(ArgumentProblem) -> (String, String) {
        let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let address = parts[0]
        if let problem = ValueRules.addressProblem(address) {
            throw ArgumentProblem(description: "\(option) \(problem). Give an IPv4 or IPv6 "
                                  + "address or a DNS name, optionally =PRIVATE_IPV4, e.g. \(option) 203.0.113.21=10.0.0.11.")
        }
        let privateAddress: String
        if parts.count == 2 {
            privateAddress = parts[1]
        } else if ValueRules.parseIPv4(address) != nil {
            privateAddress = address
        } else {
            throw ArgumentProblem(description: "\(option) \(address): configs and firewall rules need the host's private "
                                  + "IPv4 address; write it after =, e.g. \(option) \(address)=10.0.0.11.")
        }
        if let problem = ValueRules.privateAddressProblem(privateAddress) {
            throw ArgumentProblem(description: "\(option) \(ValueRules.quoted(value)): private address \(problem). It "
                                  + "is where the other hosts reach this one; give it as \(option) ADDRESS=PRIVATE_IPV4.")
        }
        return (address, privateAddress)
    }

    /// The inventory text, in the layout of inventory.example.json (one line per host).
    public var json: String {
        // memcached.user is left out: it defaults to the user the host's memcached package creates.
        let memcached = MemcachedSettings(), php = PHPSettings(), ssh = SSHSettings(user: user)
        let hostLines = hosts.map { host in
            let roles = host.roles.map { Self.string($0.rawValue) }.joined(separator: ", ")
            return "    \(Self.string(host.name)): { \"roles\": [\(roles)], \"address\": \(Self.string(host.address)), "
                + "\"privateAddress\": \(Self.string(host.privateAddress)) }"
        }
        return """
            {
              "ssh": { "user": \(Self.string(ssh.user)), "port": \(ssh.port) },
              "memcached": {
                "port": \(memcached.port),
                "maxConnections": \(memcached.maxConnections),
                "cacheSizeMB": \(memcached.cacheSizeMB),
                "extraOptions": []
              },
              "php": { "sessionHandler": \(Self.string(php.sessionHandler.rawValue)), "sessionRedundancy": \(php.sessionRedundancy) },
              "firewall": { "allowFrom": [] },
              "hosts": {
            \(hostLines.joined(separator: ",\n"))
              }
            }

            """
    }

    /// Creates `path` with the inventory; refuses (without touching it) when anything already exists there.
    /// O_EXCL makes "does it exist" and "create it" one step, so a file appearing in between is not clobbered.
    public func write(to path: String) throws(WriteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { throw .exists(path) }
            throw .cannotWrite(path, reason: String(cString: strerror(code)))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(json.utf8))
            try handle.close()
        } catch {
            unlink(path) // created above, so ours to remove: a half-written inventory would only confuse
            throw .cannotWrite(path, reason: error.localizedDescription)
        }
    }

    /// A JSON string literal. Values were validated (no quotes or control characters), escaping is belt and braces.
    static func string(_ text: String) -> String {
        ValueRules.quoted(text)
    }
}
