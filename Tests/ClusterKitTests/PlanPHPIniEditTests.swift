import Testing
@testable import ClusterKit

@Suite struct PlanPHPIniEditTests {
    let settings = [PHPIniSetting(key: "session.save_handler", value: "memcache"),
                    PHPIniSetting(key: "session.save_path", value: "\"tcp://198.18.0.11:11211\"")]

    private func edit(_ text: String) -> String {
        String(decoding: PHPIniEditor.edit(Array(text.utf8), settings: settings), as: UTF8.self)
    }

    @Test func replacesActiveValuesKeepingSpacingCommentsAndEveryOtherByte() {
        let original = EngineFixture.stockPHPIni
        let edited = edit(original)
        #expect(edited == """
            [PHP]
            ; a comment with  odd   spacing
            memory_limit =    128M\t; trailing comment

            [Session]
            ; session.save_handler = memcache
            session.save_handler   =memcache
            session.save_path = "tcp://198.18.0.11:11211"   ; stock path
            session.use_cookies = 1

            """)
        // Outside the two lines, byte for byte the same.
        let before = original.split(separator: "\n", omittingEmptySubsequences: false)
        let after = edited.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(before.count == after.count)
        let differing = zip(before, after).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing == [6, 7])
    }

    @Test func editIsIdempotent() {
        let once = edit(EngineFixture.stockPHPIni)
        #expect(edit(once) == once)
    }

    @Test func addsMissingSettingsRightAfterTheSessionHeader() {
        #expect(edit("[PHP]\nx = 1\n\n[Session]\nsession.use_cookies = 1\n") ==
            "[PHP]\nx = 1\n\n[Session]\nsession.save_handler = memcache\nsession.save_path = \"tcp://198.18.0.11:11211\"\nsession.use_cookies = 1\n")
    }

    @Test func onlyCommentedLinesCountAsAbsent() {
        let text = "[Session]\n;session.save_handler = files\n# session.save_path = /tmp\n"
        #expect(edit(text) == "[Session]\nsession.save_handler = memcache\nsession.save_path = \"tcp://198.18.0.11:11211\"\n"
                + ";session.save_handler = files\n# session.save_path = /tmp\n")
    }

    @Test func createsSessionSectionAtTheEndWhenMissing() {
        #expect(edit("[PHP]\nx = 1") == "[PHP]\nx = 1\n\n[Session]\nsession.save_handler = memcache\nsession.save_path = \"tcp://198.18.0.11:11211\"\n")
        #expect(edit("") == "[Session]\nsession.save_handler = memcache\nsession.save_path = \"tcp://198.18.0.11:11211\"\n")
    }

    @Test func keepsCRLFAndNonUTF8Bytes() {
        let latin1 = Array("[PHP]\r\n; caf".utf8) + [0xE9] + Array(" latin-1\r\n".utf8)
        let original = latin1 + Array("[Session]\r\nsession.save_handler=files\r\n".utf8)
        #expect(PHPIniEditor.edit(original, settings: settings) == latin1 + Array(
            "[Session]\r\nsession.save_path = \"tcp://198.18.0.11:11211\"\r\nsession.save_handler=memcache\r\n".utf8))
    }

    @Test func everyActiveOccurrenceIsEditedButSimilarKeysAreNot() {
        let text = "[Session]\nsession.save_handler = files\nsession.save_handler_x = keep\n  session.save_handler\t=\tuser\n"
        #expect(edit(text).hasPrefix("[Session]\nsession.save_path = \"tcp://198.18.0.11:11211\"\nsession.save_handler = memcache\nsession.save_handler_x = keep\n  session.save_handler\t=\tmemcache\n"))
    }
}
