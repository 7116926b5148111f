import ClusterKit
import Foundation

/// `apply --json` and `verify --json-events`: one JSON object per line, as things happen (docs/events-json.md).
/// The first line is always the `version` event; a consumer should check `version` and skip event types it
/// does not know (new ones may be added without a version change; changed meanings bump it).
struct EventStream: Sendable {
    static let format = "clusterctl-events"
    static let version = 1

    let write: @Sendable (String) -> Void
    var now: @Sendable () -> Date = Date.init

    /// Every event is this one object; keys not used by its `type` are left out.
    struct Record: Encodable {
        var type: String
        var time: String
        var format: String?
        var version: Int?
        var command: String?
        var clusterctl: String?
        var host: String?
        var step: String?
        var seconds: Double?
        var status: String?
        var applied: Int?
        var message: String?
        var summary: PlanSummary?
        var failed: Bool?
        var hosts: [Outcome]?
        var counts: [String: Int]?
        var check: String?
        var passed: Bool?
        var detail: String?
        var checks: Int?
        var failedChecks: Int?
        var signal: String?
        var notRun: [String]?
    }

    struct Outcome: Encodable {
        var host: String
        var status: String
        var applied: Int
        var message: String?
        var notRun: [String]?
        init(_ outcome: HostOutcome) {
            (host, status, applied, message) = (outcome.host, outcome.status.rawValue, outcome.applied, outcome.message)
            notRun = outcome.notRun.isEmpty ? nil : outcome.notRun
        }
    }

    func versionEvent(command: String) {
        var record = record("version")
        (record.format, record.version, record.command, record.clusterctl) = (Self.format, Self.version, command, Version.clusterctl)
        emit(record)
    }

    /// The plan's change summary, before anything is applied.
    func planSummary(_ summary: PlanSummary) {
        var record = record("plan-summary")
        record.summary = summary
        emit(record)
    }

    func apply(_ event: ApplyEvent) {
        switch event {
        case .hostStarted(let host):
            var record = record("host-started")
            record.host = host
            emit(record)
        case .stepStarted(let host, let step):
            var record = record("step-started")
            (record.host, record.step) = (host, step)
            emit(record)
        case .stepFinished(let host, let step, let seconds):
            var record = record("step-finished")
            (record.host, record.step, record.seconds) = (host, step, (seconds * 1000).rounded() / 1000)
            emit(record)
        case .stepFailed(let host, let step, let message):
            var record = record("step-failed")
            (record.host, record.step, record.message) = (host, step, message)
            emit(record)
        case .hostFinished(let outcome):
            var record = record("host-finished")
            (record.host, record.status, record.applied, record.message) =
                (outcome.host, outcome.status.rawValue, outcome.applied, outcome.message)
            record.notRun = outcome.notRun.isEmpty ? nil : outcome.notRun
            emit(record)
        }
    }

    func recap(_ recap: ApplyRecap) {
        var record = record("recap")
        record.failed = recap.failed
        record.hosts = recap.outcomes.map(Outcome.init)
        // `interrupted` is counted only in an interrupted run: other runs' recap stays as it always was.
        let statuses: [HostOutcome.Status] = recap.interrupted ? [.ok, .changed, .failed, .interrupted] : [.ok, .changed, .failed]
        record.counts = Dictionary(uniqueKeysWithValues: statuses.map { status in
            (status.rawValue, recap.outcomes.filter { $0.status == status }.count)
        })
        emit(record)
    }

    /// The first Ctrl-C or SIGTERM: running steps finish, nothing new starts; the recap follows.
    func interrupted(signal: String) {
        var record = record("interrupted")
        record.signal = signal
        emit(record)
    }

    /// The second signal: the process exits right after this event (no recap).
    func aborted(signal: String) {
        var record = record("aborted")
        record.signal = signal
        emit(record)
    }

    func check(_ check: VerifyCheck) {
        var record = record("check")
        (record.host, record.check, record.passed, record.detail) = (check.host, check.check, check.passed, check.detail)
        emit(record)
    }

    func verifySummary(_ report: VerifyReport) {
        var record = record("verify-summary")
        (record.passed, record.checks, record.failedChecks) = (report.passed, report.checks.count, report.failedCount)
        emit(record)
    }

    private func record(_ type: String) -> Record {
        Record(type: type, time: UTCTimestamp.milliseconds(now()))
    }

    private func emit(_ record: Record) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(record) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }
}
