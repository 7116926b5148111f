import Foundation

/// `render --force` into a directory rendered before: files clusterctl wrote then and would not write now
/// (a host that left the inventory, a file of another OS family) are removed, with the folders they leave
/// empty. What clusterctl wrote is known from a record it keeps in the directory, `.clusterctl-render`, one
/// relative path per line: anything not listed there (the user's own files, a folder clusterctl never
/// rendered) is never touched, even inside a departed host's folder.
extension RenderDirectory {
    public static let recordFileName = ".clusterctl-render"

    /// What `writeRecorded` did: the files written and those of an earlier render it removed.
    public struct WriteResult: Sendable, Equatable {
        public var files: [OutputFile]
        /// Relative paths, sorted.
        public var removed: [String]
    }

    /// `write`, then removal of the previously recorded files that were not written this time, then the new
    /// record. The record is rewritten last: if writing fails half-way, the old record still lists what the
    /// next run may remove.
    public static func writeRecorded(_ renderings: [HostRendering], to directory: String,
                                     force: Bool) throws(WriteError) -> WriteResult {
        let root = URL(fileURLWithPath: directory)
        let record = root.appendingPathComponent(recordFileName)
        let previous = readRecord(record)
        let files = try write(renderings, to: directory, force: force)
        let current = Set(files.map(\.relativePath))
        var removed: [String] = []
        for path in previous.subtracting(current).sorted() {
            let url = root.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            // Only regular files reached without a symbolic link: a recorded path that is now a folder, or
            // that leads through a link the user made, points at something clusterctl did not write.
            guard !throughSymbolicLink(path, in: root),
                  FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            do {
                try FileManager.default.removeItem(at: url)
            } catch {
                throw WriteError(path: url.path, message: "cannot remove a file of an earlier render: \(error.localizedDescription)")
            }
            removed.append(path)
            removeEmptyFolders(above: path, in: root)
        }
        let text = "# Files clusterctl render wrote here; render --force removes those it no longer writes.\n"
            + files.map { $0.relativePath + "\n" }.joined()
        do {
            try Data(text.utf8).write(to: record)
        } catch {
            throw WriteError(path: record.path, message: "cannot write: \(error.localizedDescription)")
        }
        return WriteResult(files: files, removed: removed)
    }

    /// The recorded relative paths; a missing or unreadable record is an empty one (a directory rendered by a
    /// clusterctl before the record existed: nothing can be told apart from the user's files, so nothing goes).
    /// Lines that could reach outside the directory (absolute, `..`) are ignored: the record is a plain file
    /// anyone may have edited.
    static func readRecord(_ url: URL) -> Set<String> {
        guard let data = try? Data(contentsOf: url) else { return [] }
        var paths: Set<String> = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "/", omittingEmptySubsequences: false)
            guard !line.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { continue }
            paths.insert(String(line))
        }
        return paths
    }

    /// Whether a component of `relativePath` under `root` (the file included) is a symbolic link.
    private static func throughSymbolicLink(_ relativePath: String, in root: URL) -> Bool {
        var url = root
        for part in relativePath.split(separator: "/") {
            url.appendPathComponent(String(part))
            let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
            if type == .typeSymbolicLink { return true }
        }
        return false
    }

    /// Removes the folders of `relativePath` that are now empty, deepest first, never `root` itself.
    private static func removeEmptyFolders(above relativePath: String, in root: URL) {
        var parts = relativePath.split(separator: "/").dropLast()
        while !parts.isEmpty {
            let folder = root.appendingPathComponent(parts.joined(separator: "/"))
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path), entries.isEmpty,
                  (try? FileManager.default.removeItem(at: folder)) != nil else { return }
            parts = parts.dropLast()
        }
    }
}
