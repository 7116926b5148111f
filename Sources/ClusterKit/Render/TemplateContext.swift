/// The values every template sees, and their shape (names, lists and the fields of list items).
///
/// All four templates get the same context for a host, so one table documents them (README "Template
/// variables") and an override of any template can use any value. The shape is declared once here: it is what
/// `TemplateSet` checks template references against, so a misspelt `{{cachesize}}` fails with the template's
/// file and line instead of rendering as an empty string.
public enum TemplateShape: Sendable, Equatable {
    /// Rendered as text with `{{name}}`.
    case value
    /// true/false, for `{{#name}}…{{/name}}` and `{{^name}}…{{/name}}`.
    case flag
    /// A list; `{{#name}}…{{/name}}` repeats for each item, whose fields are in scope inside.
    case list([String: TemplateShape])
}

public struct TemplateVariable: Sendable {
    public var name: String
    public var shape: TemplateShape
    public var meaning: String
}

public enum TemplateContext {
    /// Documentation and shape of the context, in README order.
    public static let variables: [TemplateVariable] = [
        .init(name: "hostName", shape: .value, meaning: "the host's name in the inventory (`mc1`)"),
        .init(name: "address", shape: .value, meaning: "where SSH connects (`203.0.113.10`)"),
        .init(name: "privateAddress", shape: .value, meaning: "the host's private IPv4 address (`10.180.0.5`)"),
        .init(name: "sshPort", shape: .value, meaning: "the host's effective SSH port (`22`)"),
        .init(name: "isMemcache", shape: .flag, meaning: "the host has the `memcache` role"),
        .init(name: "isWeb", shape: .flag, meaning: "the host has the `web` role"),
        .init(name: "memcachedPort", shape: .value, meaning: "`memcached.port` (`11211`)"),
        .init(name: "memcachedUser", shape: .value,
              meaning: "`memcached.user`, else the user the host's memcached package creates (`memcached` on EL, `memcache` on Debian/Ubuntu)"),
        .init(name: "maxConnections", shape: .value, meaning: "`memcached.maxConnections` (`1024`)"),
        .init(name: "cacheSizeMB", shape: .value, meaning: "`memcached.cacheSizeMB` (`64`)"),
        .init(name: "extraOptions", shape: .list(["option": .value]),
              meaning: "`memcached.extraOptions`, each item's `option` one word"),
        .init(name: "osFamily", shape: .value, meaning: "the key of the OS family rendered for (`el5`, `debian12`)"),
        .init(name: "sessionHandler", shape: .value, meaning: "`php.sessionHandler` (`memcache` or `memcached`)"),
        .init(name: "savePath", shape: .value,
              meaning: "the session.save_path value without quotes, in the handler's format "
                  + "(`tcp://10.180.0.5:11211, tcp://10.180.0.6:11211` or `10.180.0.5:11211,10.180.0.6:11211`)"),
        .init(name: "sessionRedundancy", shape: .value,
              meaning: "`php.sessionRedundancy`: how many memcached servers hold each session (`1`)"),
        .init(name: "sessionRedundancySettings", shape: .list(["key": .value, "value": .value]),
              meaning: "the php.ini lines that give each session that many copies with the extension the host's family ships (`key`, `value`; see [Session redundancy](#session-redundancy))"),
        .init(name: "memcacheServers", shape: .list(["name": .value, "privateAddress": .value, "port": .value, "url": .value]),
              meaning: "every memcache host by name: `name`, `privateAddress`, `port`, `url` (one save_path entry)"),
        .init(name: "webHosts", shape: .list(["name": .value, "privateAddress": .value]),
              meaning: "every web host by name: `name`, `privateAddress`"),
        .init(name: "firewallChain", shape: .value, meaning: "the iptables chain clusterctl owns (`CLUSTERCTL`)"),
        .init(name: "memcachedSources", shape: .list(["source": .value]),
              meaning: "who may reach memcached: each web host's `privateAddress/32`, then `firewall.allowFrom`; `source` as iptables-save prints it"),
    ]

    public static let shape: [String: TemplateShape] = Dictionary(uniqueKeysWithValues: variables.map { ($0.name, $0.shape) })

    /// Who may reach memcached: each web host's private address/32, then `firewall.allowFrom`, each once
    /// (a duplicate rule would never match), as iptables-save prints a source.
    static func memcachedSources(_ inventory: Inventory) -> [String] {
        var sources: [String] = []
        for candidate in inventory.webHosts.map({ $0.privateAddress }) + inventory.firewall.allowFrom {
            let source = candidate.contains("/") ? candidate : candidate + "/32"
            if !sources.contains(source) { sources.append(source) }
        }
        return sources
    }

    /// The context for one host, as swift-mustache consumes it (dictionaries, arrays, strings, booleans):
    /// `inventoryValues` and the host's and family's own values.
    static func values(for host: Host, inventoryValues: [String: any Sendable], inventory: Inventory,
                       family: OSFamily) -> [String: any Sendable] {
        var values = inventoryValues
        values["hostName"] = host.name
        values["address"] = host.address
        values["privateAddress"] = host.privateAddress
        values["sshPort"] = String(host.ssh.port)
        values["isMemcache"] = host.roles.contains(.memcache)
        values["isWeb"] = host.roles.contains(.web)
        values["memcachedUser"] = inventory.memcached.user ?? family.memcachedUser
        values["osFamily"] = family.key
        values["sessionRedundancySettings"] = family.sessionExtension(inventory.php.sessionHandler)
            .settings(copies: inventory.php.sessionRedundancy).map { ["key": $0.key, "value": $0.value] as [String: any Sendable] }
        return values
    }

    /// The values that are the same for every host of `inventory` (the server and host lists): built once
    /// per inventory, not once per host and family rendered (a plan renders each host for every family).
    static func inventoryValues(_ inventory: Inventory, chain: String) -> [String: any Sendable] {
        let memcached = inventory.memcached
        let handler = inventory.php.sessionHandler
        let urls = inventory.memcacheHosts.map { server in
            handler == .memcache ? "tcp://\(server.privateAddress):\(memcached.port)" : "\(server.privateAddress):\(memcached.port)"
        }
        let servers: [[String: any Sendable]] = zip(inventory.memcacheHosts, urls).map { server, url in
            ["name": server.name, "privateAddress": server.privateAddress, "port": String(memcached.port), "url": url]
        }
        return [
            "memcachedPort": String(memcached.port),
            "maxConnections": String(memcached.maxConnections),
            "cacheSizeMB": String(memcached.cacheSizeMB),
            "extraOptions": memcached.extraOptions.map { ["option": $0] as [String: any Sendable] },
            "sessionHandler": handler.rawValue,
            "savePath": urls.joined(separator: handler == .memcache ? ", " : ","),
            "memcacheServers": servers,
            "sessionRedundancy": String(inventory.php.sessionRedundancy),
            "webHosts": inventory.webHosts.map { ["name": $0.name, "privateAddress": $0.privateAddress] as [String: any Sendable] },
            "firewallChain": chain,
            "memcachedSources": memcachedSources(inventory).map { ["source": $0] as [String: any Sendable] },
        ]
    }
}
