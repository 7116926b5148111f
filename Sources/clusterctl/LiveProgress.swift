import ClusterKit
import Foundation

/// On a terminal: one line per host, redrawn in place (current step and the host's elapsed time), that
/// disappears when the apply ends so the recap takes its place. Anything else printed meanwhile (-v
/// commands, errors) goes above the lines via `printAbove`.
///
/// Events arrive from every host's task at once and the clock ticks on its own task: all state is behind
/// one lock, and each redraw is written in one piece so lines never interleave.
final class LiveProgress: @unchecked Sendable {
    private struct HostLine {
        var name: String
        var started: Date?
        var step: String?
        /// The last step done, while nothing runs: a web host waiting for the memcache hosts sits there.
        var done: String?
        var finished: (outcome: HostOutcome, at: Date)?
    }

    private let lock = NSLock()
    private let write: @Sendable (String) -> Void
    private let colors: Colorizer
    private let width: Int
    private let maxLines: Int
    private let now: @Sendable () -> Date
    private var hosts: [HostLine]
    /// Lines currently on screen below the cursor's line start (what the next redraw moves up over).
    private var drawn = 0
    private var ticker: Task<Void, Never>?
    /// Set by `finish`: a tick or event arriving after it must not draw the lines again under the recap.
    private var ended = false

    init(hosts: [String], width: Int, height: Int = 50, colors: Colorizer,
         now: @escaping @Sendable () -> Date = Date.init, write: @escaping @Sendable (String) -> Void) {
        self.hosts = hosts.map { HostLine(name: $0) }
        self.width = max(20, width)
        // More lines than the terminal holds could not be redrawn in place (the cursor cannot go above row 1).
        self.maxLines = max(3, height - 2)
        self.colors = colors
        self.now = now
        self.write = write
    }

    /// Redraws once a second so elapsed times move while a long step (a package install) runs.
    func startTicking() {
        ticker = Task { [weak self] in
            // A cancelled sleep returns at once: stop then, not redraw.
            while (try? await Task.sleep(for: .seconds(1))) != nil {
                self?.redraw()
            }
        }
    }

    func handle(_ event: ApplyEvent) {
        lock.withLock {
            let time = now()
            guard let index = hosts.firstIndex(where: { $0.name == event.host }) else { return }
            switch event {
            case .hostStarted: hosts[index].started = time
            case .stepStarted(_, let step): (hosts[index].step, hosts[index].done) = (step, nil)
            case .stepFinished(_, let step, _): (hosts[index].step, hosts[index].done) = (nil, step)
            case .stepFailed: break
            case .hostFinished(let outcome): hosts[index].finished = (outcome, time)
            }
            draw()
        }
    }

    func redraw() {
        lock.withLock { draw() }
    }

    /// Writes `text` (whole lines) above the live lines, which are drawn again below it.
    func printAbove(_ text: String) {
        lock.withLock {
            write(erase() + text)
            drawn = 0
            draw()
        }
        // (after `finish`, `text` is still written, just without lines below it)
    }

    /// Stops the clock and removes the lines: the recap is printed where they were.
    func finish() {
        ticker?.cancel()
        lock.withLock {
            write(erase())
            drawn = 0
            ended = true
        }
    }

    /// The lines as they would be drawn now, without escape sequences (also what tests check).
    func lines() -> [String] {
        lock.withLock { currentLines() }
    }

    private func erase() -> String {
        drawn == 0 ? "" : "\u{1B}[\(drawn)A\r\u{1B}[J"
    }

    private func draw() {
        guard !ended else { return }
        let lines = currentLines()
        var text = erase()
        for line in lines { text += "\r\u{1B}[2K" + line + "\n" }
        drawn = lines.count
        write(text)
    }

    private func currentLines() -> [String] {
        let time = now()
        let nameWidth = hosts.map(\.name.count).max() ?? 0
        var shown = hosts
        var hidden = ""
        if shown.count > maxLines {
            // Keep the running hosts in view; count the others.
            let running = shown.filter { $0.started != nil && $0.finished == nil }
            let done = shown.filter { $0.finished != nil }.count
            shown = Array(running.prefix(maxLines - 1))
            hidden = "  … \(done) done, \(hosts.count - done - shown.count) more"
        }
        var lines = shown.map { line -> String in
            let name = line.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let elapsed = line.started.map { ProgressLines.duration((line.finished?.at ?? time).timeIntervalSince($0)) } ?? ""
            let what: String
            var style: Colorizer.Style?
            if let outcome = line.finished?.outcome {
                what = outcome.status.rawValue
                    + (outcome.applied > 0 ? " (\(outcome.applied) change\(outcome.applied == 1 ? "" : "s"))" : "")
                    + (outcome.message.map { ": \($0)" } ?? "")
                style = outcome.status == .failed ? .red : [.changed, .interrupted].contains(outcome.status) ? .yellow : .green
            } else if line.started != nil {
                what = line.step.map { $0 + " …" } ?? line.done.map { "\($0): done" } ?? "starting …"
            } else {
                what = "waiting"
                style = .dim
            }
            // Lines must fit the terminal: a wrapped line would break the cursor-up redraw.
            let room = width - nameWidth - elapsed.count - 6
            let fitted = what.count > room ? String(what.prefix(max(1, room - 1))) + "…" : what
            let text = "  \(name)  \(fitted.padding(toLength: max(fitted.count, room), withPad: " ", startingAt: 0))  \(elapsed)"
            return style.map { colors.paint(text, $0) } ?? text
        }
        if !hidden.isEmpty { lines.append(hidden) }
        return lines
    }
}
