import ArgumentParser
import ClusterKit
import Dispatch
import Foundation

/// apply's Ctrl-C and SIGTERM, on a dispatch queue of their own (never a blocked thread of the Swift pool):
/// the first one asks ClusterKit to stop starting steps (`ApplyInterruption`: running steps finish, locks are
/// released, the recap lists what did not run); at the confirmation prompt it cancels; a second one exits at
/// once with 130.
final class ApplySignals: @unchecked Sendable {
    enum Phase { case planning, confirming, applying }

    let interruption = ApplyInterruption()
    private let lock = NSLock()
    private var phase = Phase.planning
    private var received = 0
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "clusterctl.signals")

    /// `first`: told the signal's name when the first one arrives while planning or applying.
    /// `abort`: the last words before exiting on the second (or at the prompt).
    init(first: @escaping @Sendable (String) -> Void, abort: @escaping @Sendable (String, Phase) -> Void) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)   // delivered to the source below instead of ending the process
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [unowned self] in
                let (count, phase) = lock.withLock { () -> (Int, Phase) in
                    received += 1
                    return (received, self.phase)
                }
                if count == 1 && phase != .confirming {
                    interruption.request()
                    first(name)
                } else {
                    abort(name, phase)
                    // _exit, not exit: exit runs the process's destructors while the SSH connection threads
                    // still use what they tear down, which crashed the controller (SIGSEGV) once in CI.
                    fflush(nil)
                    _exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    func enter(_ phase: Phase) { lock.withLock { self.phase = phase } }

    /// Restores the default actions (the sources stop).
    func stop() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// `--lock-timeout 90`, `90s`, `5m`, `1h`: how long apply waits for another run's lock.
struct LockTimeout: ExpressibleByArgument, Sendable {
    var seconds: Int

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
        let unit = argument.last.flatMap { units[$0] }
        guard let number = Int(unit == nil ? argument : String(argument.dropLast())), number >= 0,
              number <= 86_400 / (unit ?? 1) else { return nil }
        seconds = number * (unit ?? 1)
    }

    init(seconds: Int) { self.seconds = seconds }

    var defaultValueDescription: String { "\(seconds)s" }
}
