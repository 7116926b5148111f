import Foundation
import Testing
@testable import ClusterKit

/// Inputs the fuzz targets (Fuzz/, scripts/fuzz) found, kept as plain unit tests so that a fix cannot
/// regress without the fuzzer having to find the input again. Each input is exactly what the fuzzer wrote.
@Suite struct FuzzFindingsTests {
    static func bytes(_ base64: String) -> [UInt8] { Array(Data(base64Encoded: base64)!) }

    /// FuzzFacts: a facts line of spaces only has no first word; the parser indexed words[0] and crashed
    /// (a host whose shell prints a stray blank line must be refused with a message, not kill clusterctl).
    @Test func factsLineOfSpacesIsRefusedNotACrash() {
        let input = Self.bytes("Y2x1c3RlcmN0bC1mYWN0cyAyCm9zIENlY3RzIDQgMSPuMSAoCgoKCgoKCgogCgoKCgoKCgoKCgplYQ==")
        #expect(throws: FactsError.self) { try FactsParser.parse(input, host: "web1", candidates: []) }
        #expect(throws: FactsError(host: "web1", message: "unexpected line in facts output:  ")) {
            try FactsParser.parse(Array("\(FactsScript.header)\n \nend-facts\n".utf8), host: "web1", candidates: [])
        }
    }
}

extension FuzzFindingsTests {
    /// FuzzPHPIni's idempotence property, with an input found by reading PHPIniEditor.valueEnd and confirmed
    /// by the fuzz target (150 s of fuzzing had not reached it): a quoted value followed by more text.
    @Test(arguments: [SettingsFormat.phpIni, .fpmPool])
    func quotedValueFollowedByTextIsEditedOnceAndForAll(format: SettingsFormat) {
        let settings = [PHPIniSetting(key: "session.save_handler", value: "memcache")]
        let line = format == .phpIni ? "session.save_handler" : "php_value[session.save_handler]"
        let original = Array("[Session]\n\(line) = \"files\" x ; comment\nkeep = \"a\" b\n".utf8)
        let once = SettingsEditor.edit(original, settings: settings, format: format)
        #expect(String(decoding: once, as: UTF8.self) == "[Session]\n\(line) = memcache ; comment\nkeep = \"a\" b\n")
        #expect(SettingsEditor.edit(once, settings: settings, format: format) == once)
    }
}

extension FuzzFindingsTests {
    /// FuzzFilterTable: with CRLF line ends ("\r\n" is a single Character to Swift's split) the whole text
    /// was one line and read as an empty table; `normalize` already meant to accept hand-written files' "\r".
    @Test func filterTableReadsCRLFLikeLF() {
        let input = Self.bytes("KmZpbHRlcgo6SQE=")  // "*filter\n:I\u{01}"
        let lf = String(decoding: input, as: UTF8.self)
        let crlf = String(decoding: input.flatMap { $0 == 10 ? [13, 10] : [$0] }, as: UTF8.self)
        #expect(FilterTable.parse(crlf) == FilterTable.parse(lf))
        let save = "*filter\r\n:INPUT ACCEPT [0:0]\r\n:CLUSTERCTL - [0:0]\r\n-A INPUT -j CLUSTERCTL\r\nCOMMIT\r\n"
        #expect(FilterTable.parse(save) == FilterTable(chains: ["INPUT", "CLUSTERCTL"], rules: ["-A INPUT -j CLUSTERCTL"]))
    }
}

extension FuzzFindingsTests {
    /// FuzzPHPIni, against the fix above: `"file0" x ` (a trailing blank, no comment) kept its blank after
    /// the quoted value's replacement, and the next edit, of the unquoted value, took the blank with it.
    @Test func quotedValueFollowedByTextAndABlankIsEditedOnceAndForAll() {
        let input = Self.bytes("AFtTZXNzaXZlX2hsZXNhbmYKaHR0cGQtcGhwCjwvRmlsZXObbl0AW1Nlc3Npb25dCnNlc3Npb24uc2F2ZV9oYW5kbGVyID0gImZpbGUwIiB4IApzATwKAA==")
        let settings = [PHPIniSetting(key: "session.save_handler", value: "memcache"),
                        PHPIniSetting(key: "session.save_path", value: "\"tcp://10.180.0.11:11211?persistent=1, tcp://10.180.0.12:11211\"")]
        let original = Array(input.dropFirst())  // the fuzz target's first byte picks the format: 0 is php.ini
        let once = SettingsEditor.edit(original, settings: settings, format: .phpIni)
        #expect(SettingsEditor.edit(once, settings: settings, format: .phpIni) == once)
        #expect(String(decoding: once, as: UTF8.self).contains("\nsession.save_handler = memcache\n"))
    }
}
