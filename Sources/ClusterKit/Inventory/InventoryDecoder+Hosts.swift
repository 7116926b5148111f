/// The `hosts` object: each host on its own, then the checks across hosts.
extension InventoryDecoder {
    /// A host as far as it decoded, with where its values were written (for cross-host messages).
    private struct DecodedHost {
        var host: Host
        var path: String
        var addressPosition: SourcePosition
        var privateAddressPosition: SourcePosition
        var privateAddressWasDefaulted: Bool
    }

    static func hostPath(_ name: String) -> String {
        ValueRules.hostNameProblem(name) == nil ? "hosts." + name : "hosts[\(ValueRules.quoted(name))]"
    }

    /// `os`: the top-level `os`, each host's default.
    mutating func decodeHosts(_ node: JSONNode, ssh: SSHSettings, os: String?) -> [Host] {
        guard case .object(let members) = node.value else {
            report("hosts", node.position, "must be an object mapping host names to hosts, found \(node.kindDescription)")
            return []
        }
        var decoded: [DecodedHost] = []
        var roleCounts: [Role: Int] = [:]
        for member in members {
            let path = Self.hostPath(member.key)
            if let problem = ValueRules.hostNameProblem(member.key) {
                report(path, member.keyPosition, problem)
            }
            let (host, roles) = decodeHost(member.value, name: member.key, path: path, ssh: ssh, os: os)
            roles.forEach { roleCounts[$0, default: 0] += 1 }
            if let host { decoded.append(host) }
        }
        for role in Role.allCases where roleCounts[role, default: 0] == 0 {
            report("hosts", node.position, "no host has the \"\(role.rawValue)\" role; at least one is required")
        }
        checkDuplicates(decoded)
        return decoded.map(\.host)
    }

    /// Returns the host (nil when unusable) and the valid roles it names, which count even for a broken host
    /// so that a typo in one host's address does not also claim "no web host".
    private mutating func decodeHost(_ node: JSONNode, name: String, path: String,
                                     ssh: SSHSettings, os: String?) -> (DecodedHost?, Set<Role>) {
        guard let members = object(node, path: path, allowed: Self.hostKeys) else { return (nil, []) }
        let (validRoles, rolesOK) = decodeRoles(members["roles"], hostNode: node, path: path + ".roles")
        let roles = rolesOK ? validRoles : nil
        var hostSSH: SSHSettings? = ssh
        if let sshMember = members["ssh"] {
            hostSSH = decodeSSH(sshMember.value, path: path + ".ssh", base: ssh)
        }
        guard let addressMember = members["address"] else {
            report(path + ".address", node.position, "missing required key \"address\"")
            return (nil, validRoles)
        }
        let address = string(addressMember.value, path: path + ".address", rule: ValueRules.addressProblem)
        var privateAddress: String?
        var privatePosition = addressMember.value.position
        var defaulted = false
        if let privateMember = members["privateAddress"] {
            privatePosition = privateMember.value.position
            privateAddress = string(privateMember.value, path: path + ".privateAddress", rule: ValueRules.privateAddressProblem)
        } else if let address {
            if ValueRules.parseIPv4(address) != nil {
                if let problem = ValueRules.privateAddressProblem(address) {
                    report(path + ".address", addressMember.value.position, String(problem.dropLast()) + "; set privateAddress)")
                } else {
                    privateAddress = address
                    defaulted = true
                }
            } else {
                report(path + ".privateAddress", node.position,
                       "missing; required because address \(ValueRules.quoted(address)) is not an IPv4 address")
            }
        }
        guard let roles, let address, let privateAddress, let hostSSH else { return (nil, validRoles) }
        let hostOS = members["os"] == nil ? os : string(members["os"], path: path + ".os", rule: Self.osProblem)
        if members["os"] != nil && hostOS == nil { return (nil, validRoles) }
        let host = Host(name: name, roles: roles, address: address, privateAddress: privateAddress, ssh: hostSSH,
                        os: hostOS)
        return (DecodedHost(host: host, path: path, addressPosition: addressMember.value.position,
                            privateAddressPosition: privatePosition, privateAddressWasDefaulted: defaulted), roles)
    }

    mutating func decodeSSH(_ node: JSONNode, path: String, base: SSHSettings) -> SSHSettings? {
        let before = problems.count
        guard let members = object(node, path: path, allowed: Self.sshKeys) else { return nil }
        var settings = base
        if let user = string(members["user"], path: path + ".user", rule: ValueRules.userNameProblem) { settings.user = user }
        if let port = integer(members["port"], path: path + ".port", rule: ValueRules.portProblem) { settings.port = port }
        if let file = string(members["identityFile"], path: path + ".identityFile", rule: ValueRules.localPathProblem) {
            settings.identityFile = file
        }
        if let file = string(members["knownHostsFile"], path: path + ".knownHostsFile", rule: ValueRules.localPathProblem) {
            settings.knownHostsFile = file
        }
        if let jump = string(members["jumpHost"], path: path + ".jumpHost", rule: ValueRules.jumpHostProblem) {
            settings.jumpHost = jump
        }
        if let config = string(members["config"], path: path + ".config",
                               rule: { $0 == "none" ? nil : ValueRules.localPathProblem($0) }) {
            settings.config = config
        }
        for key in Self.sshKeys where members[key] != nil { settings.explicitKeys.insert(key) }
        if let become = string(members["become"], path: path + ".become", rule: { $0 == "sudo" ? nil : "must be \"sudo\", found \(ValueRules.quoted($0))" }) {
            settings.become = become
        }
        return problems.count == before ? settings : nil
    }

    /// The valid roles named, and whether the whole list was valid.
    private mutating func decodeRoles(_ member: JSONMember?, hostNode: JSONNode, path: String) -> (Set<Role>, Bool) {
        guard let member else {
            report(path, hostNode.position, "missing required key \"roles\" (use [] for a host with no role)")
            return ([], false)
        }
        let names = Role.allCases.map(\.rawValue)
        let before = problems.count
        let values = stringArray(member.value, path: path, rejectDuplicates: true) { value in
            guard Role(rawValue: value) == nil else { return nil }
            let hint = ValueRules.suggestion(for: value, among: names).map { "; did you mean \"\($0)\"?" } ?? ""
            return "unknown role \(ValueRules.quoted(value)) (expected \"memcache\" or \"web\")\(hint)"
        }
        let roles = Set(values.compactMap(Role.init(rawValue:)))
        return (roles, problems.count == before)
    }

    /// Two hosts on one private address would get each other's config and firewall rules; two hosts on one
    /// SSH endpoint (address and port) are the same machine twice.
    private mutating func checkDuplicates(_ hosts: [DecodedHost]) {
        var privateOwners: [String: String] = [:]
        var endpointOwners: [String: String] = [:]
        for entry in hosts.sorted(by: { $0.addressPosition.line < $1.addressPosition.line
                                         || ($0.addressPosition.line == $1.addressPosition.line
                                             && $0.addressPosition.column < $1.addressPosition.column) }) {
            let host = entry.host
            let endpoint = "\(host.address.lowercased()) port \(host.ssh.port)"
            if let owner = endpointOwners[endpoint] {
                report(entry.path + ".address", entry.addressPosition,
                       "address \(ValueRules.quoted(host.address)) with SSH port \(host.ssh.port) is already used by host \(owner)")
            } else {
                endpointOwners[endpoint] = host.name
            }
            if let owner = privateOwners[host.privateAddress] {
                let field = entry.privateAddressWasDefaulted ? "address" : "privateAddress"
                report(entry.path + "." + field, entry.privateAddressPosition,
                       "private address \(ValueRules.quoted(host.privateAddress)) is already used by host \(owner)")
            } else {
                privateOwners[host.privateAddress] = host.name
            }
        }
    }
}
