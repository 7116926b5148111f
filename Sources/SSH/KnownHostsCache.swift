import Foundation

extension KnownHostsFile {
    /// The file as it is now; a missing file is an empty one (as for OpenSSH). Every connection reads
    /// known_hosts twice (key type preference, host key check), so each version of a file is parsed once per
    /// process: a change to it (another process, or this one appending a key under accept-new) shows as a new
    /// size, modification time or inode, and the file is read again.
    static func load(path: String) throws -> KnownHostsFile {
        var status = stat()
        guard stat(path, &status) == 0 else { return KnownHostsFile() }
        let version = KnownHostsCache.Version(status)
        if let cached = KnownHostsCache.shared.file(path: path, version: version) { return cached }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let file = parse(String(decoding: data, as: UTF8.self), file: path)
        // Stat before read: a change in between leaves newer contents under the older version, which the
        // next load does not match, so it reads again; never older contents under a newer version.
        KnownHostsCache.shared.store(file, path: path, version: version)
        return file
    }
}

/// Parsed known_hosts files by path, shared by the connection threads (plain Threads: a lock, not an actor).
final class KnownHostsCache: @unchecked Sendable {
    static let shared = KnownHostsCache()

    struct Version: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: timespec
        var changed: timespec

        init(_ status: stat) {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modified = status.st_mtim
            changed = status.st_ctim
        }

        static func == (a: Version, b: Version) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }

        /// A write within the file system's timestamp granularity of the read can leave size and times as
        /// they were (git's "racily clean" problem): such a version is read again rather than trusted.
        func isSettled(now: timespec) -> Bool {
            max(modified.tv_sec, changed.tv_sec) < now.tv_sec - 1
        }
    }

    private let lock = NSLock()
    private var files: [String: (version: Version, file: KnownHostsFile)] = [:]

    func file(path: String, version: Version) -> KnownHostsFile? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = files[path], entry.version == version else { return nil }
        return entry.file
    }

    func store(_ file: KnownHostsFile, path: String, version: Version) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard version.isSettled(now: now) else { return }
        lock.lock()
        defer { lock.unlock() }
        files[path] = (version, file)
    }
}
