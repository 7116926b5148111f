// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "clusterctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "clusterctl", targets: ["clusterctl"]),
        .library(name: "ClusterKit", targets: ["ClusterKit"]),
        .library(name: "SSH", targets: ["SSH"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // libssh2 from the system (Debian: libssh2-1-dev); the module map links -lssh2.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"]), .brew(["libssh2"])]
        ),
        // SSH sessions, exec, upload, known_hosts, auth. Knows nothing about clusters.
        .target(
            name: "SSH",
            dependencies: [
                "CLibSSH2",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Inventory, rendering, facts, desired state, plan, apply, verify.
        // Templates/ at the top of the repository is a symlink to Sources/ClusterKit/Templates:
        // SwiftPM copies resource symlinks verbatim, so the real files must live inside the target.
        .target(
            name: "ClusterKit",
            dependencies: [
                "SSH",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Templates")]
        ),
        // Argument parsing and printing only.
        .executableTarget(
            name: "clusterctl",
            dependencies: [
                "ClusterKit",
                "SSH", // --version reports the libssh2 version
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Depends on the executable so `swift test` builds the clusterctl binary that the CLI tests run.
        // Golden/ is read by path (relative to #filePath), not bundled.
        .testTarget(name: "ClusterKitTests", dependencies: ["ClusterKit", "clusterctl"], exclude: ["Golden"]),
        .testTarget(name: "SSHTests", dependencies: ["SSH"]),
        .testTarget(name: "IntegrationTests", dependencies: ["ClusterKit", "SSH"]),
    ],
    swiftLanguageModes: [.v6]
)
