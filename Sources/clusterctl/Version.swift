import SSH

/// What `clusterctl --version` prints. The libssh2 version is the one loaded at run time (not the headers'),
/// since that is what a bug report needs; asking for it does not initialise libssh2, so --version stays instant.
enum Version {
    /// clusterctl's own version: the one place it is written. Bump it when cutting a release.
    static let clusterctl = "0.1.0"

    static var text: String { "clusterctl \(clusterctl) (libssh2 \(libssh2Version))" }
}
