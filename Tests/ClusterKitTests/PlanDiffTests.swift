import Testing
@testable import ClusterKit

@Suite struct PlanDiffTests {
    private func diff(_ old: String, _ new: String) -> String {
        UnifiedDiff.diff(old: Array(old.utf8), new: Array(new.utf8), oldLabel: "a", newLabel: "b")
    }

    private func numbered(_ range: ClosedRange<Int>) -> String { range.map { "line\($0)\n" }.joined() }

    @Test func identicalTextsHaveNoDiff() {
        #expect(diff("x\n", "x\n") == "")
    }

    @Test func separateHunksWithThreeLinesOfContext() {
        var new = numbered(1...20).replacingOccurrences(of: "line2\n", with: "LINE2\n")
        new = new.replacingOccurrences(of: "line18\n", with: "")
        #expect(diff(numbered(1...20), new) == """
            --- a
            +++ b
            @@ -1,5 +1,5 @@
             line1
            -line2
            +LINE2
             line3
             line4
             line5
            @@ -15,6 +15,5 @@
             line15
             line16
             line17
            -line18
             line19
             line20

            """)
    }

    @Test func nearbyChangesShareOneHunk() {
        let new = numbered(1...10).replacingOccurrences(of: "line3\n", with: "x\n")
            .replacingOccurrences(of: "line8\n", with: "y\n")
        #expect(diff(numbered(1...10), new).components(separatedBy: "@@ -").count == 2)
        #expect(diff(numbered(1...10), new).contains("@@ -1,10 +1,10 @@\n"))
    }

    @Test func newFileAndMissingFinalNewline() {
        #expect(UnifiedDiff.diff(old: [], new: Array("a\nb".utf8), oldLabel: "/dev/null", newLabel: "f") == """
            --- /dev/null
            +++ f
            @@ -0,0 +1,2 @@
            +a
            +b
            \\ No newline at end of file

            """)
        #expect(diff("a\nb", "a\nb\n") == "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n")
    }

    @Test func insertionInTheMiddleUsesTheLongestCommonSubsequence() {
        #expect(diff("a\nb\nc\nd\n", "a\nx\nb\nc\ny\nd\n") == "--- a\n+++ b\n@@ -1,4 +1,6 @@\n a\n+x\n b\n c\n+y\n d\n")
    }
}
