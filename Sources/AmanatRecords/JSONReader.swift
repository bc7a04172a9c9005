/// Reads one JSON document a value at a time, building only what its caller asks for: the members of an object are
/// handed over by name, and each value is read as the caller expects it or skipped (checked, not built). For
/// documents of one's own read by the million, such as a store's summaries, where ``JSONValue/parse(_:limits:)``
/// would allocate a tree only to take a few strings out of it.
///
/// Everything is checked as ``JSONValue/parse(_:limits:)`` checks it (syntax, strict UTF-8, the limits, no duplicate
/// names in the objects read member by member, nothing after the document), whether built or skipped; a document
/// that parse refuses is refused here too, once read to its end (``finish()``). Only the duplicate names inside a
/// skipped value are not looked for, as ``JSONValue/validate(_:limits:)`` does not.
public struct JSONReader {
    private var parser: JSONValue.Parser
    private var depth = 0
    /// A value is due: the document's, or the member's whose name was just handed over. Each read or skip takes it;
    /// a second read before the next name would read past a missing `,` and is refused.
    private var valueDue = true

    /// A reader at the start of `bytes`.
    /// - Throws: ``JSONParseError`` when the document is over `limits.maximumBytes`.
    public init(_ bytes: [UInt8], limits: JSONValue.Limits = JSONValue.Limits()) throws {
        parser = JSONValue.Parser(bytes: bytes, limits: limits)
        guard bytes.count <= limits.maximumBytes else {
            throw parser.error("the document is larger than \(limits.maximumBytes) bytes")
        }
        parser.skipWhitespace()
    }

    /// The next value, built whole.
    public mutating func readValue() throws -> JSONValue {
        try take()
        return try parseValue(build: true)
    }

    /// Moves past the next value, checked but not built.
    public mutating func skipValue() throws {
        try take()
        _ = try parseValue(build: false)
    }

    /// The next value when it is a string; nil (the value skipped) when it is anything else.
    public mutating func readString() throws -> String? {
        try take()
        return try parseValue(build: next == UInt8(ascii: "\"")).stringValue
    }

    /// The text of the next value when it is a number; nil (the value skipped) when it is anything else.
    public mutating func readNumber() throws -> String? {
        try take()
        let isNumber = next.map { $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) } ?? false
        guard case .number(let text) = try parseValue(build: isNumber) else { return nil }
        return text
    }

    /// The strings of the next value when it is an array (its other items left out); nil (the value skipped) when
    /// it is not an array.
    public mutating func readStrings() throws -> [String]? {
        try take()
        return try parseValue(build: next == UInt8(ascii: "[")).arrayValue?.compactMap(\.stringValue)
    }

    /// Takes the value that is due.
    /// - Throws: ``JSONParseError`` when none is (a second read of one member's value, or after the document's).
    private mutating func take() throws {
        guard valueDue else { throw parser.error("a value was read where none was due (expected ',' or the end)") }
        valueDue = false
    }

    /// The next value, built or only checked.
    private mutating func parseValue(build: Bool) throws -> JSONValue {
        parser.build = build
        defer { parser.build = true }
        return try parser.parseValue(depth: depth)
    }

    /// When the next value is an object, calls `body` with each member's name in order, with the reader before the
    /// member's value: `body` reads or skips it (a value `body` leaves is skipped). Returns false, the value skipped,
    /// when it is not an object.
    /// - Throws: ``JSONParseError`` for bad syntax, a duplicate name, or a limit passed; or what `body` throws.
    @discardableResult
    public mutating func readMembers(_ body: (inout JSONReader, String) throws -> Void) throws -> Bool {
        try take()
        guard next == UInt8(ascii: "{") else {
            _ = try parseValue(build: false)
            return false
        }
        guard depth <= parser.limits.maximumDepth else {
            throw parser.error("nested deeper than \(parser.limits.maximumDepth) levels")
        }
        try parser.countValue()
        parser.index += 1
        depth += 1
        defer { depth -= 1 }
        var names: [String] = []
        var large = Set<String>()
        parser.skipWhitespace()
        if next == UInt8(ascii: "}") {
            parser.index += 1
            return true
        }
        while true {
            parser.skipWhitespace()
            guard next == UInt8(ascii: "\"") else { throw parser.error("expected a member name") }
            let nameStart = parser.index
            let name = try parser.parseString()
            // Small objects (nearly all) are checked by a linear scan; large ones by a set.
            let duplicate: Bool
            if names.count < 16 {
                duplicate = names.contains(name)
                names.append(name)
                if names.count == 16 { large = Set(names) }
            } else {
                duplicate = !large.insert(name).inserted
            }
            guard !duplicate else {
                parser.index = nameStart
                throw parser.error("duplicate member name \(JSONValue.quoted(String(name.prefix(40))))")
            }
            parser.skipWhitespace()
            guard next == UInt8(ascii: ":") else { throw parser.error("expected ':'") }
            parser.index += 1
            parser.skipWhitespace()
            valueDue = true
            try body(&self, name)
            if valueDue { try skipValue() }
            parser.skipWhitespace()
            guard let byte = next else { throw parser.error("unexpected end of input in an object") }
            if byte == UInt8(ascii: ",") {
                parser.index += 1
                continue
            }
            guard byte == UInt8(ascii: "}") else { throw parser.error("expected ',' or '}'") }
            parser.index += 1
            return true
        }
    }

    /// Checks that nothing but whitespace follows the document (skipping the document first when nothing read it).
    public mutating func finish() throws {
        if valueDue { try skipValue() }
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected data after the JSON value") }
    }

    /// Whether the next value is an object (``readMembers(_:)`` reads it member by member).
    public var isBeforeObject: Bool { next == UInt8(ascii: "{") }

    private var next: UInt8? { parser.index < parser.bytes.count ? parser.bytes[parser.index] : nil }
}
