import Foundation

/// Lays renderings out as files under one directory, for `clusterctl render --out DIR`:
/// `DIR/<host>/<managed path>` (e.g. `DIR/mc1/etc/sysconfig/memcached`), `DIR/<host>/php-session.ini` and
/// `DIR/<host>/firewall.rules`. The layout is computed in memory first (`files(for:)`), so a failure before
/// writing leaves nothing behind, and the bytes depend only on the renderings.
public enum RenderDirectory {
    public static let phpSessionFileName = "php-session.ini"
    public static let firewallFileName = "firewall.rules"

    public struct OutputFile: Sendable, Equatable {
        /// Relative to DIR, `/`-separated.
        public var relativePath: String
        public var contents: String
        public var mode: Int32
    }

    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// Every file `write` would create, in a stable order (host name, then path).
    public static func files(for renderings: [HostRendering]) -> [OutputFile] {
        var files: [OutputFile] = []
        for rendering in renderings.sorted(by: { $0.host.name < $1.host.name }) {
            let name = rendering.host.name
            for file in rendering.managedFiles {
                files.append(OutputFile(relativePath: name + file.path, contents: file.contents, mode: file.mode))
            }
            if !rendering.phpIniSettings.isEmpty {
                let lines = rendering.phpIniSettings.map(\.line)
                let text = "; php.ini [Session] lines clusterctl sets on \(name) (other lines of php.ini are left alone)\n"
                    + lines.joined(separator: "\n") + "\n"
                files.append(OutputFile(relativePath: "\(name)/\(phpSessionFileName)", contents: text, mode: 0o644))
            }
            let rules = rendering.firewallRules
            var text = "# iptables-save lines of chain \(rules.chain) on \(name) (jumped to from INPUT; "
                + "other chains are left alone)\n"
            if rules.rules.isEmpty { text += "# (no rules: this host has no memcache or web role)\n" }
            text += rules.rules.map { $0 + "\n" }.joined()
            files.append(OutputFile(relativePath: "\(name)/\(firewallFileName)", contents: text, mode: 0o644))
        }
        return files
    }

    /// Writes `files(for:)` under `directory`, creating it if needed. Refuses a non-empty directory unless
    /// `force`, in which case the files are overwritten in place and nothing else in it is touched.
    public static func write(_ renderings: [HostRendering], to directory: String, force: Bool) throws(WriteError) -> [OutputFile] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw WriteError(path: directory, message: "exists and is not a directory") }
            let entries = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
            if !entries.isEmpty && !force {
                throw WriteError(path: directory, message: "directory is not empty (use --force to overwrite the rendered files in it)")
            }
        }
        let files = files(for: renderings)
        for file in files {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(file.relativePath)
            do {
                try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: url)
                try manager.setAttributes([.posixPermissions: Int(file.mode)], ofItemAtPath: url.path)
            } catch {
                throw WriteError(path: url.path, message: "cannot write: \(error.localizedDescription)")
            }
        }
        return files
    }
}
