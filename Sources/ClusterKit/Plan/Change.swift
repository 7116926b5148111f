import Foundation

/// One thing apply will do on a host. A flat value (not an enum with payloads) so its JSON form is simple
/// and documented: see docs/plan-json.md.
public struct Change: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case installPackage = "install-package"
        case writeFile = "write-file"
        case enableService = "enable-service"
        case startService = "start-service"
        case restartService = "restart-service"
        /// Replace the rules of clusterctl's iptables chain (and put its INPUT jump first): `Firewall/`.
        case replaceFirewallChain = "replace-firewall-chain"
        /// Where firewalld runs: its rich rules and services, runtime and permanent (`Firewall/Firewalld/`).
        case configureFirewalld = "configure-firewalld"
        /// Turn an SELinux boolean on persistently (`selinux` names it): `SELinux/`.
        case setSELinuxBoolean = "set-selinux-boolean"
        /// Label a TCP port with an SELinux type (`selinux` is `type/port`).
        case labelSELinuxPort = "label-selinux-port"
    }

    public var kind: Kind
    /// Order of execution on the host: EPEL → packages → files → SELinux → enable → firewall → start/restart.
    public var phase: ApplyPhase
    public var package: String?
    public var service: String?
    /// Why a service is started or restarted, or what about a file differs.
    public var reason: String?
    public var file: FileChange?
    public var firewall: FirewallChange?
    /// The SELinux boolean, or `type/port`, of an SELinux change.
    public var selinux: String?
    public var firewalld: FirewalldChange?

    public static func install(_ package: String, phase: ApplyPhase) -> Change {
        Change(kind: .installPackage, phase: phase, package: package)
    }
    public static func write(_ file: FileChange, reason: String) -> Change {
        Change(kind: .writeFile, phase: .files, reason: reason, file: file)
    }
    public static func enable(_ service: String) -> Change {
        Change(kind: .enableService, phase: .enable, service: service, reason: "not enabled at boot")
    }
    public static func start(_ service: String, reason: String) -> Change {
        Change(kind: .startService, phase: .services, service: service, reason: reason)
    }
    public static func restart(_ service: String, reason: String) -> Change {
        Change(kind: .restartService, phase: .services, service: service, reason: reason)
    }
    public static func replaceFirewall(_ firewall: FirewallChange, reason: String) -> Change {
        Change(kind: .replaceFirewallChain, phase: .firewall, reason: reason, firewall: firewall)
    }
}

/// The firewall comes before services start: a memcached started on a fresh host is never reachable
/// unfiltered, and a lock-out (rolled back on the host) stops the host before anything else is started.
public enum ApplyPhase: String, Sendable, Codable, Comparable, CaseIterable {
    case repository, packages, files, selinux, enable, firewall, services

    public static func < (lhs: ApplyPhase, rhs: ApplyPhase) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A file apply will write: the complete new contents (so a saved plan applies exactly what was shown),
/// its owner and mode, and the diff shown in the plan.
public struct FileChange: Sendable, Equatable, Codable {
    public var path: String
    /// false: the file does not exist yet.
    public var exists: Bool
    public var newContents: [UInt8]
    public var mode: Int32
    public var owner: String
    public var group: String
    public var diff: String
    /// For edits (php.ini): the settings, re-applied to the file as it is at write time when packages were
    /// installed earlier in the same apply (installing `php` creates php.ini after the facts were taken).
    public var editSettings: [IniSetting]?
    /// The format of an edited file (php.ini, or an override layer above it).
    public var editFormat: SettingsFormat?

    public init(path: String, exists: Bool, newContents: [UInt8], mode: Int32, owner: String, group: String,
                diff: String, editSettings: [IniSetting]? = nil, editFormat: SettingsFormat? = nil) {
        self.path = path
        self.exists = exists
        self.newContents = newContents
        self.mode = mode
        self.owner = owner
        self.group = group
        self.diff = diff
        self.editSettings = editSettings
        self.editFormat = editFormat
    }

    enum CodingKeys: String, CodingKey { case path, exists, contentBase64, mode, owner, group, diff, editSettings, editFormat }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        exists = try c.decode(Bool.self, forKey: .exists)
        guard let data = Data(base64Encoded: try c.decode(String.self, forKey: .contentBase64)) else {
            throw DecodingError.dataCorruptedError(forKey: .contentBase64, in: c, debugDescription: "not base64")
        }
        newContents = Array(data)
        let modeText = try c.decode(String.self, forKey: .mode)
        guard let parsed = Int32(modeText, radix: 8) else {
            throw DecodingError.dataCorruptedError(forKey: .mode, in: c, debugDescription: "not an octal mode")
        }
        mode = parsed
        owner = try c.decode(String.self, forKey: .owner)
        group = try c.decode(String.self, forKey: .group)
        diff = try c.decode(String.self, forKey: .diff)
        editSettings = try c.decodeIfPresent([IniSetting].self, forKey: .editSettings)
        editFormat = try c.decodeIfPresent(SettingsFormat.self, forKey: .editFormat)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(exists, forKey: .exists)
        try c.encode(Data(newContents).base64EncodedString(), forKey: .contentBase64)
        try c.encode(String(mode, radix: 8), forKey: .mode)
        try c.encode(owner, forKey: .owner)
        try c.encode(group, forKey: .group)
        try c.encode(diff, forKey: .diff)
        try c.encodeIfPresent(editSettings, forKey: .editSettings)
        try c.encodeIfPresent(editFormat, forKey: .editFormat)
    }
}

/// A php.ini setting as stored in plans (mirrors `PHPIniSetting`, which belongs to rendering).
public struct IniSetting: Sendable, Equatable, Codable {
    public var key: String
    public var value: String
    public init(_ setting: PHPIniSetting) {
        key = setting.key
        value = setting.value
    }
    public var phpIniSetting: PHPIniSetting { PHPIniSetting(key: key, value: value) }
}
