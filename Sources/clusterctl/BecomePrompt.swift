import ClusterKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The sudo password for `ssh.become`, shared by every host of one run: CLUSTERCTL_BECOME_PASSWORD, or asked
/// once on the terminal (no echo) when the first host wants it. Never printed or logged.
enum BecomePrompt {
    static let shared: BecomePassword = {
        let prompt: (@Sendable () -> String?)? = isatty(STDIN_FILENO) == 1
            ? { @Sendable in BecomePrompt.readPassword("sudo password for the hosts' login users: ") } : nil
        return BecomePassword(environment: ProcessInfo.processInfo.environment["CLUSTERCTL_BECOME_PASSWORD"], prompt: prompt)
    }()

    /// Reads a line from /dev/tty with echo off.
    static func readPassword(_ prompt: String) -> String? {
        guard let pointer = getpass(prompt) else { return nil }
        return String(cString: pointer)
    }
}
