/// A PECL session extension as one family ships it, and the php.ini lines that keep each session on
/// `php.sessionRedundancy` memcached servers with it. Read from the extensions' sources (websupport-sk/pecl-memcache,
/// php-memcached-dev/php-memcached), per released line:
///
/// - memcache 2.2 (EPEL 5): no `memcache.session_redundancy`; a session lives on one server, and
///   `allow_failover` only sends it elsewhere while that server is down. No redundancy possible.
/// - memcache 3.0 (EL 6: 3.0.5, EL 7: 3.0.8): `memcache.session_redundancy = N` writes N-1 copies (its read and
///   write loops stop at `skip_servers.len < session_redundancy-1`; default 2, i.e. one copy).
/// - memcache 4.0.5.2 and 8.x (Debian, Ubuntu, EPEL 9, Remi): the loops stop at `< session_redundancy`: N copies
///   (still default 2). A read that finds no value on a server goes on to the next one, so a restarted, empty
///   server does not hide the other copy.
/// - memcached 1.0 (EPEL 5): no session replication settings at all.
/// - memcached 2.x (EPEL 7: 2.2.0): `sess_number_of_replicas` (copies beyond the first), which libmemcached only
///   honours with the binary protocol (`sess_binary`), `sess_remove_failed`, `sess_consistent_hash`; no failure
///   limit setting for sessions.
/// - memcached 3.x (Debian, Ubuntu, EPEL 9, Remi): the same as `sess_binary_protocol`,
///   `sess_remove_failed_servers`, plus `sess_server_failure_limit`.
///
/// PHP ignores ini keys no loaded extension declares, so the lines of a line that cannot replicate are those of
/// the newest line: inert on the family's own package, what a newer build of the extension (another repository)
/// reads. Plan says when the family's package cannot give the redundancy asked for.
public struct SessionExtension: Sendable, Equatable {
    public enum Line: String, Sendable, Equatable {
        case memcache2 = "2.2", memcache3 = "3.0", memcache4 = "4.0.5.2+"
        case memcached1 = "1.0", memcached2 = "2.x", memcached3 = "3.x"
    }

    public var handler: SessionHandler
    public var line: Line

    public init(_ handler: SessionHandler, _ line: Line) {
        self.handler = handler
        self.line = line
    }

    /// The package keeps a session on more than one server.
    public var replicates: Bool { ![.memcache2, .memcached1].contains(line) }

    /// "php-pecl-memcache 2.2": for messages.
    public func described(package: String) -> String { "\(package) \(line.rawValue)" }

    /// The php.ini lines for `copies` copies of each session (1 = one server holds it; failover still lets new
    /// sessions be written while a server is away).
    public func settings(copies: Int) -> [PHPIniSetting] {
        func s(_ key: String, _ value: Int) -> PHPIniSetting { PHPIniSetting(key: key, value: String(value)) }
        switch line {
        case .memcache2, .memcache4:
            return [s("memcache.session_redundancy", copies), s("memcache.allow_failover", 1),
                    PHPIniSetting(key: "memcache.hash_strategy", value: "consistent")]
        case .memcache3:
            return [s("memcache.session_redundancy", copies + 1), s("memcache.allow_failover", 1),
                    PHPIniSetting(key: "memcache.hash_strategy", value: "consistent")]
        case .memcached2:
            return [s("memcached.sess_binary", 1), s("memcached.sess_number_of_replicas", copies - 1),
                    s("memcached.sess_consistent_hash", 1), s("memcached.sess_remove_failed", 1)]
        case .memcached1, .memcached3:
            return [s("memcached.sess_binary_protocol", 1), s("memcached.sess_number_of_replicas", copies - 1),
                    s("memcached.sess_consistent_hash", 1), s("memcached.sess_remove_failed_servers", 1),
                    s("memcached.sess_server_failure_limit", 1)]
        }
    }
}
