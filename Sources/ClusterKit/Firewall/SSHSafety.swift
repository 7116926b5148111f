/// Whether a chain's rules provably cannot drop the packets of an SSH connection, so the change can be
/// applied directly, in the run's own connection, without the lock-out protection (`FirewallScripts`'
/// detached change, rollback and check over a new connection): that protection costs every host a second
/// SSH connection and about a second of waiting (issue 15), and guards against nothing here.
///
/// A rule is harmless to SSH when it can only accept (`-j ACCEPT` or `-j RETURN`: our chain is jumped to, so
/// a packet it does not match goes on through INPUT as before), when it matches UDP only (SSH is TCP), or
/// when it matches TCP to one destination port that is not an SSH port. Anything else — a source-bound DROP,
/// a port range or list, a negation, `-g`, a rule this reading does not know — could match the operator's
/// SSH packets, and the change keeps the full protection. The default templates (memcached's port from the
/// web hosts, HTTP and HTTPS open) are harmless; an override that adds, say, `-s NET -j DROP` is not.
public enum SSHSafety {
    /// `sshPorts`: the host's SSH port and 22 (an address translated on the way may arrive on 22).
    public static func cannotCutSSH(_ rules: [String], sshPorts: Set<Int>) -> Bool {
        rules.allSatisfy { isHarmless($0, sshPorts: sshPorts) }
    }

    static func isHarmless(_ rule: String, sshPorts: Set<Int>) -> Bool {
        let words = rule.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard words.count >= 4, words[0] == "-A", !words.contains("!"), !words.contains("-g"), !words.contains("--goto"),
              let jump = words.firstIndex(of: "-j"), words.filter({ $0 == "-j" }).count == 1, jump + 1 < words.count
        else { return false }
        // The target alone ends the rule: ACCEPT and RETURN take no options.
        if ["ACCEPT", "RETURN"].contains(words[jump + 1]) && jump + 2 == words.count { return true }
        let options = Array(words[..<jump])
        guard let protocolIndex = options.firstIndex(of: "-p"), protocolIndex + 1 < options.count,
              options.filter({ $0 == "-p" }).count == 1 else { return false }
        switch options[protocolIndex + 1] {
        case "udp":
            return true
        case "tcp":
            let ports = options.indices.filter { options[$0] == "--dport" || options[$0] == "--destination-port" }
            guard ports.count == 1, ports[0] + 1 < options.count, let port = Int(options[ports[0] + 1]),
                  (1...65535).contains(port) else { return false }
            return !sshPorts.contains(port)
        default:
            return false
        }
    }
}
