/// The part of the facts script that tells which OS family a host is, so that the same single round trip
/// can go on to ask exactly what that family needs (`FactsScript`). The matching rules are the families' own
/// data (`PlatformMatch`), turned into sh here; nothing about a particular OS is written in this file.
///
/// Prints `os PRETTY NAME` (os-release's PRETTY_NAME, or the first line of /etc/redhat-release on hosts
/// that have no os-release: EL5, EL6) and `family KEY`, or `family unsupported`, and leaves the key in
/// `$cct_family`.
enum PlatformDetection {
    /// `root`: where /etc is (tests point it at a directory of their own).
    static func script(families: [OSFamily], root: String = "") -> String {
        let osRelease = ShellQuote.quote(root + "/etc/os-release"), redhatRelease = ShellQuote.quote(root + "/etc/redhat-release")
        var lines = [
            "cct_id=; cct_like=; cct_ver=; cct_name=",
            // os-release is sh by its specification; read in subshells so nothing it sets leaks.
            "if [ -r \(osRelease) ]; then",
            "  cct_id=$(. \(osRelease); echo \"$ID\"); cct_like=$(. \(osRelease); echo \"$ID_LIKE\")",
            "  cct_ver=$(. \(osRelease); echo \"$VERSION_ID\"); cct_name=$(. \(osRelease); echo \"$PRETTY_NAME\")",
            "elif [ -r \(redhatRelease) ]; then",
            // The first line, and the number after its last " release ", with the shell's own `read` and
            // pattern removal: no process started (facts run on every host at every plan).
            "  read -r cct_name < \(redhatRelease); cct_id=rhel",
            "  case $cct_name in *' release '[0-9]*) cct_ver=${cct_name##*' release '}; cct_ver=${cct_ver%%[!0-9.]*} ;; esac",
            "fi",
            "[ -n \"$cct_name\" ] || cct_name=\"${cct_id:-unknown} $cct_ver\"",
            "cct_major=${cct_ver%%.*}",
            // Is any ID/ID_LIKE word one of $1, with the version ($3: major or exact) equal to $2?
            "cct_is() { for w in $cct_id $cct_like; do for i in $1; do [ \"$w\" = \"$i\" ] && [ \"$2\" = \"$3\" ] && return 0; done; done; return 1; }",
            "cct_family=unsupported",
        ]
        for (index, family) in families.enumerated() {
            let match = family.match
            let ids = ShellQuote.quote(match.ids.joined(separator: " "))
            let found = match.exactVersion ? "\"$cct_ver\"" : "\"$cct_major\""
            let variant = match.whenFileExists.map { " && [ -e \(ShellQuote.quote(root + $0)) ]" } ?? ""
            lines.append((index == 0 ? "if" : "elif") + " cct_is \(ids) \(ShellQuote.quote(match.version)) \(found)\(variant); "
                         + "then cct_family=\(ShellQuote.quote(family.key))")
        }
        if !families.isEmpty { lines.append("fi") }
        lines.append("echo \"os $cct_name\"")
        lines.append("echo \"family $cct_family\"")
        return lines.joined(separator: "\n")
    }
}
