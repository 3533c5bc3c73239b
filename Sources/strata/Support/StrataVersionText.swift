import StrataCore

enum StrataVersionText {
    static var full: String { StrataVersion.current }
}
