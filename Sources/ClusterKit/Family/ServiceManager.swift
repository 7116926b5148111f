/// How a family enables, starts and inspects services: SysV init scripts with chkconfig (EL5, EL6) or systemd.
public protocol ServiceManager: Sendable {
    /// Facts-script fragment printing `service NAME enabled|disabled running|stopped`. Only states are
    /// printed, never pids, so facts of an unchanged host are byte-identical between runs (the saved-plan
    /// fingerprint depends on that). `root` prefixes the paths read directly (tests point it elsewhere).
    func factsCommand(_ quotedService: String, root: String) -> String
    func enableCommand(_ service: String) -> String
    func startCommand(_ service: String) -> String
    func restartCommand(_ service: String) -> String
}

/// chkconfig + `service` (EL5, EL6).
public struct SysVServices: ServiceManager {
    public init() {}

    /// Enabled = on in runlevel 3 (what `chkconfig NAME on` sets, and the EL server default runlevel): an
    /// `S??NAME` link in rc3.d, which is what `chkconfig --list` reads, found by the shell's own globbing
    /// rather than by starting chkconfig and grep. Running = `service NAME status` exits 0 (LSB); without an
    /// init script `service` only says "unrecognized service", so on a fresh host it is not started at all.
    public func factsCommand(_ s: String, root: String) -> String {
        """
        e=disabled; for l in \(ShellQuote.quote(root + "/etc/rc.d/rc3.d"))/S[0-9][0-9]\(s); do [ -e "$l" ] && e=enabled; done
        if [ -f \(ShellQuote.quote(root + "/etc/rc.d/init.d"))/\(s) ] && service \(s) status >/dev/null 2>&1; then r=running; else r=stopped; fi
        echo "service "\(s)" $e $r"
        """
    }
    public func enableCommand(_ service: String) -> String { "chkconfig " + ShellQuote.quote(service) + " on" }
    public func startCommand(_ service: String) -> String { "service " + ShellQuote.quote(service) + " start" }
    public func restartCommand(_ service: String) -> String { "service " + ShellQuote.quote(service) + " restart" }
}

/// systemd (EL7+, Debian, Ubuntu). `enable` without `--now`: not every EL7 systemctl has it, and starting is
/// its own step (after the config files are written).
public struct SystemdServices: ServiceManager {
    public init() {}

    public func factsCommand(_ s: String, root: String) -> String {
        """
        if systemctl is-enabled --quiet \(s) 2>/dev/null; then e=enabled; else e=disabled; fi
        if systemctl is-active --quiet \(s) 2>/dev/null; then r=running; else r=stopped; fi
        echo "service "\(s)" $e $r"
        """
    }
    public func enableCommand(_ service: String) -> String { "systemctl enable " + ShellQuote.quote(service) }
    public func startCommand(_ service: String) -> String { "systemctl start " + ShellQuote.quote(service) + Self.stillActive(service) }
    public func restartCommand(_ service: String) -> String { "systemctl restart " + ShellQuote.quote(service) + Self.stillActive(service) }

    /// `systemctl start` of a simple unit returns 0 as soon as the process is forked, even when it exits
    /// right away (memcached with a user that does not exist, under Restart=always): a second later the unit
    /// must still be active, else the start failed and the unit's last log lines say why.
    static func stillActive(_ service: String) -> String {
        let s = ShellQuote.quote(service)
        return " && { sleep 1; systemctl is-active --quiet \(s) || { echo \"\(service) did not stay running:\" >&2; "
            + "journalctl -u \(s) -n 3 --no-pager -o cat >&2; exit 1; }; }"
    }
}
