import CLibSSH2

/// libssh2's version string, e.g. "1.10.0" (proves the C target links).
public var libssh2Version: String {
    String(cString: libssh2_version(0))
}
