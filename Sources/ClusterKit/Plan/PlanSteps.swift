/// One kind of thing to converge (packages, files, services; the firewall of issue 6 is one more). Like a
/// pyinfra operation: it reads the host's facts and yields the changes needed, nothing when converged.
/// `earlier` holds the changes of the steps before it, which is how handlers work (a service restarts when a
/// file of its own changed). A step throws `PlanRefusal` when the host is in a state it must not work around
/// (the host then fails at plan and nothing runs on it). Everything family-specific is `desired.family`'s.
public protocol PlanStep: Sendable {
    func changes(desired: DesiredState, facts: HostFacts, earlier: [Change]) throws -> [Change]
}

/// Why a host cannot be planned, with what to do about it.
public struct PlanRefusal: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Computes a host's changes by running the steps in order.
public struct Planner: Sendable {
    public var steps: [PlanStep]

    public static let defaultSteps: [PlanStep] = [PackagesStep(), FilesStep(), SELinuxStep(), ServicesStep(), FirewallStep()]

    public init(steps: [PlanStep] = Planner.defaultSteps) {
        self.steps = steps
    }

    public func changes(desired: DesiredState, facts: HostFacts) throws -> [Change] {
        var changes: [Change] = []
        for step in steps {
            changes += try step.changes(desired: desired, facts: facts, earlier: changes)
        }
        // Listed in execution order (the firewall phase sits between enable and start/restart).
        return ApplyPhase.allCases.flatMap { phase in changes.filter { $0.phase == phase } }
    }
}

public struct PackagesStep: PlanStep {
    public init() {}
    public func changes(desired: DesiredState, facts: HostFacts, earlier: [Change]) -> [Change] {
        desired.repositoryPackages.filter { !facts.isInstalled($0) }.map { Change.install($0, phase: .repository) }
            + desired.packages.filter { !facts.isInstalled($0) }.map { Change.install($0, phase: .packages) }
    }
}

public struct FilesStep: PlanStep {
    public init() {}
    public func changes(desired: DesiredState, facts: HostFacts, earlier: [Change]) -> [Change] {
        let installs = earlier.contains { $0.kind == .installPackage }
        return desired.files.compactMap { fileChange($0, current: facts.files[$0.path], packagesInstalled: installs) }
    }

    /// `packagesInstalled`: this plan installs packages, which may create a file that is missing now.
    func fileChange(_ file: DesiredFile, current: RemoteFile?, packagesInstalled: Bool) -> Change? {
        if current == nil, !packagesInstalled, case .settingsEdit(let format, _) = file.content, !format.createsMissing {
            return nil   // an override layer that is not there overrides nothing
        }
        let newContents: [UInt8], mode: Int32, owner: String, group: String
        var settings: [IniSetting]?
        var format: SettingsFormat?
        switch file.content {
        case .whole(let managed):
            newContents = Array(managed.contents.utf8)
            (mode, owner, group) = (managed.mode, managed.owner, managed.group)
        case .settingsEdit(let editFormat, let edits):
            // An edited file keeps its owner and mode; a new one gets the distribution's.
            newContents = SettingsEditor.edit(current?.contents ?? [], settings: edits, format: editFormat)
            (mode, owner, group) = (current?.mode ?? 0o644, current?.owner ?? "root", current?.group ?? "root")
            settings = edits.map(IniSetting.init)
            format = editFormat
        }
        var reasons: [String] = []
        if current == nil, case .settingsEdit = file.content {
            // e.g. php.ini before `php` is installed: apply edits the file the package creates (if it does).
            reasons.append("not present yet; the edit applies to the file the packages install")
        } else if current == nil {
            reasons.append("new file")
        } else if let current {
            if current.contents != newContents { reasons.append("content") }
            if current.mode != mode { reasons.append("mode \(octal(current.mode)) → \(octal(mode))") }
            if current.owner != owner || current.group != group {
                reasons.append("owner \(current.owner):\(current.group) → \(owner):\(group)")
            }
        }
        guard !reasons.isEmpty else { return nil }
        let diff = UnifiedDiff.diff(old: current?.contents ?? [], new: newContents,
                                    oldLabel: current == nil ? "/dev/null" : file.path, newLabel: file.path)
        let change = FileChange(path: file.path, exists: current != nil, newContents: newContents, mode: mode,
                                owner: owner, group: group, diff: diff, editSettings: settings,
                                editFormat: format)
        return .write(change, reason: reasons.joined(separator: ", "))
    }

    private func octal(_ mode: Int32) -> String { "0" + String(mode, radix: 8) }
}

/// Enables every service, then starts the stopped ones and restarts (once) those whose config changed.
public struct ServicesStep: PlanStep {
    public init() {}
    public func changes(desired: DesiredState, facts: HostFacts, earlier: [Change]) -> [Change] {
        var enables: [Change] = [], runs: [Change] = []
        for service in desired.services {
            let state = facts.services[service] ?? ServiceFacts(enabled: false, running: false)
            if !state.enabled { enables.append(.enable(service)) }
            let changedConfigs = desired.files
                .filter { $0.restarts == service }
                // Content changes only: a mode or owner fix does not change what the service reads.
                .filter { file in earlier.contains { $0.file?.path == file.path && $0.file?.diff.isEmpty == false } }
                .map(\.path)
            if !state.running {
                runs.append(.start(service, reason: "not running"))
            } else if !changedConfigs.isEmpty {
                runs.append(.restart(service, reason: "config changed: " + changedConfigs.joined(separator: ", ")))
            }
        }
        return enables + runs
    }
}
