/// Applies a `configure-firewalld` change with the same lock-out protection as the iptables chain: the
/// runtime configuration changes first, with a detached `firewall-cmd --reload` armed on the host (a reload
/// brings back the permanent configuration, which is still the previous one); only a new SSH connection made
/// after the change disarms it and then writes the permanent configuration. clusterctl's firewalld changes
/// touch only memcached's port and the http/https services, so cutting SSH would take a broken firewalld;
/// the protection is there for that case, as it is for a template that drops SSH on the iptables path.
struct FirewalldApplier: Sendable {
    static let markerPath = FirewallScripts.stateDirectory + "/firewalld-rollback.armed"
    static let logPath = FirewallScripts.stateDirectory + "/firewall-rollback.log"

    var rollbackSeconds: Int

    func apply(_ change: FirewalldChange, transport: HostTransport, reconnect: Reconnector?) async throws {
        let step = "firewalld zone \(change.zone)"
        func fail(_ message: String) -> ApplyError { ApplyError(step: step, message: message) }
        if let runtime = change.runtime.command(zone: change.zone, permanent: false) {
            guard let reconnect else { throw fail("no way to open a new connection to check SSH after the change; nothing changed") }
            let armed = try await transport.run(armAndChange(runtime))
            guard armed.succeeded else {
                throw fail(armed.exitStatus == 11 ? "a firewalld rollback armed by an earlier run is still pending; try again "
                           + "in \(rollbackSeconds) s" : "the runtime change failed: " + FirewallApplier.describe(armed)
                           + "; the host reloads its permanent configuration within \(rollbackSeconds) s")
            }
            let fresh: HostTransport
            do {
                guard let made = try await ReconnectRace.connect(reconnect, before: ContinuousClock().now
                                                                 + .seconds(rollbackSeconds) - .seconds(1)) else {
                    throw fail("the change cut SSH; the host reloads its previous firewalld configuration within \(rollbackSeconds) s")
                }
                fresh = made
            }
            defer { Task { await fresh.close() } }
            let disarm = try await fresh.run("rm \(ShellQuote.quote(Self.markerPath))")
            guard disarm.succeeded else {
                throw fail("the rollback reloaded the previous configuration before it could be disarmed; nothing was saved")
            }
            if let permanent = change.permanent.command(zone: change.zone, permanent: true) {
                try await ApplyCommand.run(permanent, on: fresh, step: "\(step): permanent configuration")
            }
            return
        }
        if let permanent = change.permanent.command(zone: change.zone, permanent: true) {
            try await ApplyCommand.run(permanent, on: transport, step: "\(step): permanent configuration")
        }
    }

    /// Arms the reload (refusing when one is still armed), then changes the runtime configuration.
    private func armAndChange(_ runtimeCommand: String) -> String {
        let marker = ShellQuote.quote(Self.markerPath), log = ShellQuote.quote(Self.logPath)
        let rollback = "sleep \(rollbackSeconds); if mv \(marker) \(marker).fired 2>/dev/null; then "
            + "firewall-cmd --reload; echo \"$(date) firewalld rollback (reload)\" >> \(log); fi"
        return """
            mkdir -p \(ShellQuote.quote(FirewallScripts.stateDirectory)) || exit 13
            [ -e \(marker) ] && { echo 'a firewalld rollback is still armed' >&2; exit 11; }
            nohup sh -c \(ShellQuote.quote(rollback)) </dev/null >/dev/null 2>&1 &
            echo $! > \(marker) || exit 13
            \(runtimeCommand)
            """
    }
}
