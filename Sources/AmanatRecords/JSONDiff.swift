/// One difference between two JSON documents, at a JSON Pointer (RFC 6901).
public struct JSONChange: Sendable, Equatable {
    /// What happened at ``pointer``.
    public enum Kind: String, Sendable, Equatable {
        /// The value is new (a member or an array element the old document did not have).
        case added
        /// The value is gone.
        case removed
        /// The value differs (a different scalar, or a different type).
        case changed
    }

    /// Where, e.g. `/testimony/date` or `/detainees/0/name/kkCyrl`. `""` is the whole document.
    public var pointer: String
    public var kind: Kind
    /// The value before (nil when added). Untrusted text: print it through ``UntrustedText/printable(_:)``.
    public var old: JSONValue?
    /// The value after (nil when removed). Untrusted text, as ``old``.
    public var new: JSONValue?

    public init(pointer: String, kind: Kind, old: JSONValue?, new: JSONValue?) {
        self.pointer = pointer
        self.kind = kind
        self.old = old
        self.new = new
    }
}

extension JSONValue {
    /// The differences that turn `old` into this document, in document order: objects are compared member by
    /// member (the old document's members first, then new ones), arrays element by element (index by index; extra
    /// elements are added or removed at their index). A member or element that is new or gone is one change at its
    /// own pointer, not one per leaf below it; two values of different types are one `changed`.
    ///
    /// Two equal documents have no differences; the order of object members does not matter.
    public func changes(from old: JSONValue) -> [JSONChange] {
        var out: [JSONChange] = []
        Self.diff(old, self, pointer: "", into: &out)
        return out
    }

    /// Escapes one reference token of a JSON Pointer (RFC 6901: `~` as `~0`, `/` as `~1`).
    public static func pointerToken(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    private static func diff(_ old: JSONValue?, _ new: JSONValue?, pointer: String, into out: inout [JSONChange]) {
        switch (old, new) {
        case (nil, nil):
            return
        case (nil, let value?):
            out.append(JSONChange(pointer: pointer, kind: .added, old: nil, new: value))
        case (let value?, nil):
            out.append(JSONChange(pointer: pointer, kind: .removed, old: value, new: nil))
        case (.object(let a)?, .object(let b)?):
            let oldMembers = Dictionary(a, uniquingKeysWith: { first, _ in first })
            let newMembers = Dictionary(b, uniquingKeysWith: { first, _ in first })
            var keys = a.map(\.0)
            keys += b.map(\.0).filter { oldMembers[$0] == nil }
            for key in keys {
                diff(oldMembers[key], newMembers[key], pointer: pointer + "/" + pointerToken(key), into: &out)
            }
        case (.array(let a)?, .array(let b)?):
            for index in 0..<max(a.count, b.count) {
                diff(
                    index < a.count ? a[index] : nil, index < b.count ? b[index] : nil, pointer: pointer + "/\(index)",
                    into: &out)
            }
        case (let a?, let b?):
            if a != b { out.append(JSONChange(pointer: pointer, kind: .changed, old: a, new: b)) }
        }
    }
}
