// swift-tools-version:6.0
import Foundation
import PackageDescription

// libFuzzer targets (issue 14), built with `swift build --sanitize=fuzzer` by scripts/fuzz.
// A package of its own: libFuzzer supplies `main`, so these executables cannot be linked by the main
// package's plain `swift build` (no main), and the whole graph must be built instrumented anyway.
// The main package is a path dependency; its identity is its directory's name, which differs between
// clones (clusterctl, a worktree's name), so it is computed here rather than spelled out.
let parent = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let mainPackage = parent.lastPathComponent

func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: [.product(name: "ClusterKit", package: mainPackage)])
}

let package = Package(
    name: "clusterctl-fuzz",
    dependencies: [.package(path: "..")],
    targets: ["FuzzInventory", "FuzzFacts", "FuzzFilterTable", "FuzzPHPIni"].map(fuzzTarget),
    swiftLanguageModes: [.v6]
)
