import Foundation

/// Printing to stderr. (Glibc's `stderr` global is not concurrency-safe to touch in Swift 6 mode.)
enum Console {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
