/// How a family asks about and installs packages: the behaviour that really differs between rpm/yum and
/// dpkg/apt (EL5's yum reports success for a package it cannot find; apt needs fresh lists and no prompts).
public protocol PackageManager: Sendable {
    /// Facts-script fragment printing `package NAME installed|absent` for each of `packages`, asking the
    /// package database once for all of them (one rpm or dpkg-query process per host, not one per package:
    /// each opens the database, and on a small host process starts are what facts cost).
    func factsCommand(_ packages: [String]) -> String
    /// Installs the packages in one transaction and fails unless all of them ended up installed.
    func installCommand(_ packages: [String]) -> String
}

/// The loop every package manager's facts end with: `for p in LIST` — the in-memory fake host recognises it.
enum PackageFacts {
    static let loopPrefix = "for p in "

    /// `installedWhen`: the start of a `case` whose first branch is taken when `$p` is installed.
    static func report(_ quotedList: String, installedWhen: String) -> String {
        "\(loopPrefix)\(quotedList); do \(installedWhen) echo \"package $p installed\" ;; "
            + "*) echo \"package $p absent\" ;; esac; done"
    }
}

/// rpm + yum (EL5–EL7) or dnf (EL8+).
public struct YumPackages: PackageManager {
    /// "yum" or "dnf".
    public var tool: String

    public init(tool: String = "yum") {
        self.tool = tool
    }

    /// `rpm -q` prints NAME-VERSION-RELEASE (EL7+: .ARCH appended to the release) for each installed
    /// package, "package P is not installed" otherwise; version and release never contain "-", so the name
    /// is what is left after the last two "-" fields. A name is installed when one of those lines names it.
    public func factsCommand(_ packages: [String]) -> String {
        let list = ShellQuote.join(packages)
        return """
        cct_q=$(rpm -q \(list) 2>/dev/null); cct_n=' '
        set -f; cct_ifs=$IFS; IFS='
        '
        for l in $cct_q; do case $l in 'package '*) ;; *) l=${l%-*}; cct_n="$cct_n${l%-*} " ;; esac; done
        IFS=$cct_ifs; set +f
        \(PackageFacts.report(list, installedWhen: "case $cct_n in *\" $p \"*)"))
        """
    }

    /// EL5's yum exits 0 when a package is unavailable ("No package P available."), so the install is
    /// checked with `rpm -q`, which exits with the number of packages missing.
    public func installCommand(_ packages: [String]) -> String {
        "\(tool) -y install " + ShellQuote.join(packages) + " && rpm -q " + ShellQuote.join(packages)
    }
}

/// dpkg + apt-get (Debian, Ubuntu).
public struct AptPackages: PackageManager {
    /// Package lists younger than this are used as they are (Ansible's `cache_valid_time`): a converged
    /// host never runs `apt-get update`, a fresh one (no lists) or one whose lists are older always does.
    public var listsValidMinutes: Int

    public init(listsValidMinutes: Int = 24 * 60) {
        self.listsValidMinutes = listsValidMinutes
    }

    /// `db:Status-Status` is "installed" only for a fully configured package ("config-files" after a
    /// remove, "half-configured" after a failed install are absent: apt must finish them). dpkg-query prints
    /// a line for each package it knows (one per architecture) and complains on stderr about the others.
    public func factsCommand(_ packages: [String]) -> String {
        let list = ShellQuote.join(packages)
        return """
        cct_q=$(dpkg-query -W -f='${Package} ${db:Status-Status}\\n' \(list) 2>/dev/null)
        \(PackageFacts.report(list, installedWhen: "case \"\n$cct_q\n\" in *\"\n$p installed\n\"*)"))
        """
    }

    /// Without prompts (noninteractive debconf, so iptables-persistent asks nothing) and keeping conffiles
    /// that were changed on the host (confdef+confold); waits up to 2 minutes for another dpkg (an
    /// unattended upgrade) instead of failing at once. The lists are refreshed first when none are younger
    /// than `listsValidMinutes`; the final dpkg-query proves every package is installed.
    public func installCommand(_ packages: [String]) -> String {
        let list = ShellQuote.join(packages)
        return "export DEBIAN_FRONTEND=noninteractive; "
            + "if [ -z \"$(find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -mmin -\(listsValidMinutes) 2>/dev/null | head -n 1)\" ]; "
            + "then apt-get -q -o DPkg::Lock::Timeout=120 update || exit; fi; "
            + "apt-get -q -y -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef "
            + "-o Dpkg::Options::=--force-confold install " + list + " && "
            + "for p in " + list + "; do [ \"$(dpkg-query -W -f='${db:Status-Status}' \"$p\" 2>/dev/null)\" = installed ] "
            + "|| { echo \"package $p is not installed\" >&2; exit 1; }; done"
    }
}
