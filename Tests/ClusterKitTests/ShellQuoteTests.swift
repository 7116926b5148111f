import Testing
@testable import ClusterKit

@Suite struct ShellQuoteTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("/etc/php.ini", "/etc/php.ini"),
        ("", "''"),
        ("a b", "'a b'"),
        ("it's", "'it'\\''s'"),
        ("$(reboot)", "'$(reboot)'"),
        ("a;b", "'a;b'"),
    ])
    func quotes(input: String, expected: String) {
        #expect(ShellQuote.quote(input) == expected)
    }
}
