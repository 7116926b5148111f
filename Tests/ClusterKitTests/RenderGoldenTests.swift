import Foundation
import Testing
@testable import ClusterKit

/// Compares `render`'s whole output directory with checked-in goldens under Tests/ClusterKitTests/Golden/<case>/expected.
/// To regenerate after an intended change: `CLUSTERCTL_UPDATE_GOLDEN=1 swift test --filter RenderGoldenTests`,
/// review the diff, commit. An update run still fails, so it can never pass by rewriting its own expectations.
@Suite struct RenderGoldenTests {
    static let goldenRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    enum Case: String, CaseIterable, Sendable {
        case example
        case twoMemcacheFiveWebMemcache = "two-mc-five-web-memcache"
        case twoMemcacheFiveWebMemcached = "two-mc-five-web-memcached"

        var inventoryPath: String {
            self == .example
                ? InventoryLoaderTests.repositoryRoot.appendingPathComponent("inventory.example.json").path
                : RenderGoldenTests.goldenRoot.appendingPathComponent(rawValue).appendingPathComponent("inventory.json").path
        }
        var expectedDirectory: URL { RenderGoldenTests.goldenRoot.appendingPathComponent(rawValue).appendingPathComponent("expected") }
    }

    @Test(arguments: Case.allCases)
    func renderMatchesGolden(_ golden: Case) throws {
        let inventory = try InventoryLoader.load(path: golden.inventoryPath)
        let files = RenderDirectory.files(for: try Renderer(templates: .bundled()).render(inventory))
        let rendered = Dictionary(uniqueKeysWithValues: files.map { ($0.relativePath, $0.contents) })

        if ProcessInfo.processInfo.environment["CLUSTERCTL_UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: golden.expectedDirectory)
            for (path, contents) in rendered {
                let url = golden.expectedDirectory.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(contents.utf8).write(to: url)
            }
            Issue.record("goldens for \(golden.rawValue) rewritten; review them and run again without CLUSTERCTL_UPDATE_GOLDEN")
            return
        }
        let expected = try Self.readTree(golden.expectedDirectory)
        #expect(!expected.isEmpty, "no goldens in \(golden.expectedDirectory.path)")
        #expect(rendered.keys.sorted() == expected.keys.sorted())
        for (path, contents) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(rendered[path] == contents, "\(golden.rawValue)/\(path) differs from the golden")
        }
    }

    static func readTree(_ root: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [:] }
        for case let relative as String in enumerator {
            var isDirectory: ObjCBool = false
            let path = root.appendingPathComponent(relative).path
            // The record of what was rendered (`render --force` reads it) is bookkeeping, not a rendered file.
            if relative == RenderDirectory.recordFileName { continue }
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[relative] = try String(contentsOfFile: path, encoding: .utf8)
            }
        }
        return result
    }
}
