import Testing
@testable import SSH

@Suite struct LinkTests {
    @Test func linksSystemLibssh2() {
        #expect(libssh2Version.hasPrefix("1."))
    }
}
