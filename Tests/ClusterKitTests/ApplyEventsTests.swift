import Foundation
import Testing
@testable import ClusterKit

/// Collects what a sink receives from every host's task (thread-safe, as sinks must be).
final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [ApplyEvent] = []

    var sink: ApplyEventSink { { event in self.lock.withLock { self.recorded.append(event) } } }
    var events: [ApplyEvent] { lock.withLock { recorded } }
    func events(of host: String) -> [ApplyEvent] { events.filter { $0.host == host } }
}

/// A compact name for an event, for comparing sequences (the seconds of a finished step vary).
func shape(_ event: ApplyEvent) -> String {
    switch event {
    case .hostStarted: return "host-started"
    case .stepStarted(_, let step): return "started \(step)"
    case .stepFinished(_, let step, _): return "finished \(step)"
    case .stepFailed(_, let step, _): return "failed \(step)"
    case .hostFinished(let outcome): return "host-finished \(outcome.status.rawValue)"
    }
}

@Suite struct ApplyEventsTests {
    @Test func everyStepOfAFreshHostIsStartedThenFinishedInPhaseOrder() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let plan = try await fixture.plan()
        let recorder = EventRecorder()
        let recap = await ClusterApplier(parallel: 4, firewallTiming: .immediate, events: recorder.sink)
            .apply(plan, pool: fixture.pool, checkFingerprints: false)
        #expect(!recap.failed)
        #expect(recorder.events(of: "mc1").map(shape) == [
            "host-started",
            "started install epel-release", "finished install epel-release",
            "started install memcached", "finished install memcached",
            "started write /etc/sysconfig/memcached", "finished write /etc/sysconfig/memcached",
            "started enable memcached", "finished enable memcached",
            "started firewall chain CLUSTERCTL", "finished firewall chain CLUSTERCTL",
            "started start memcached", "finished start memcached",
            "host-finished changed",
        ])
        // Every host: started first, finished last with the recap's outcome, steps paired in between.
        for outcome in recap.outcomes {
            let events = recorder.events(of: outcome.host)
            #expect(events.first == .hostStarted(host: outcome.host))
            #expect(events.last == .hostFinished(outcome))
            let steps = events.dropFirst().dropLast()
            #expect(steps.count % 2 == 0)
            for pair in stride(from: steps.startIndex, to: steps.endIndex, by: 2) {
                guard case .stepStarted(_, let step) = steps[pair],
                      case .stepFinished(_, let finished, let seconds) = steps[pair + 1] else {
                    Issue.record("unpaired step events on \(outcome.host): \(steps.map(shape))")
                    break
                }
                #expect(step == finished && seconds >= 0)
            }
        }
    }

    @Test func aFailingHostReportsItsStepThenFails() async throws {
        let fixture = EngineFixture(webCount: 3)
        await fixture.makeFresh()
        let plan = try await fixture.plan()
        await fixture.transport("web2").configure { $0.failingCommands = ["install httpd"] }
        await fixture.transport("web3").configure { $0.unreachable = "web3: connection lost" }
        let recorder = EventRecorder()
        let recap = await ClusterApplier(parallel: 2, firewallTiming: .immediate, events: recorder.sink)
            .apply(plan, pool: fixture.pool, checkFingerprints: false)

        let web2 = recorder.events(of: "web2")
        #expect(web2.map(shape) == ["host-started", "started install epel-release", "finished install epel-release",
                                    "started install httpd php php-pecl-memcache", "failed install httpd php php-pecl-memcache",
                                    "host-finished failed"])
        guard case .stepFailed(_, _, let message) = web2[4] else { Issue.record("no step-failed"); return }
        #expect(message.contains("simulated failure"))
        #expect(web2.last == .hostFinished(try #require(recap.outcome(for: "web2"))))
        // Lost after planning: taking its run lock fails, before any step.
        #expect(recorder.events(of: "web3").map(shape) == ["host-started", "host-finished failed"])
        #expect(recorder.events(of: "web1").map(shape).last == "host-finished changed")
    }

    @Test func aHostThatCouldNotBePlannedStartsAndFailsWithoutSteps() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("web1").configure { $0.unreachable = "web1: no route" }
        let plan = try await fixture.plan()
        let recorder = EventRecorder()
        _ = await ClusterApplier(parallel: 4, firewallTiming: .immediate, events: recorder.sink)
            .apply(plan, pool: fixture.pool, checkFingerprints: false)
        #expect(recorder.events(of: "web1").map(shape) == ["host-started", "host-finished failed"])
    }
}
