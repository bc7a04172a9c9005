import Foundation

/// A JSON value that keeps what a record needs exactly: member order, number literals as written, and strings
/// as Unicode scalars. Parsed strictly (RFC 8259) with limits, so hostile input gets a clear error.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    /// A number as its literal text (validated JSON number syntax), so no precision is lost.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; keys are unique.
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .number(let n): hasher.combine(n)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let members):
            for (k, v) in members {
                hasher.combine(k)
                hasher.combine(v)
            }
        }
    }

    // MARK: Access

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [(String, JSONValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The same object with `key` set (appended if new).
    public func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let i = members.firstIndex(where: { $0.0 == key }) {
            members[i].1 = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }

    /// The same object without `key`.
    public func removing(_ key: String) -> JSONValue {
        guard case .object(let members) = self else { return self }
        return .object(members.filter { $0.0 != key })
    }
}

// MARK: - Serialization

extension JSONValue {
    /// Compact JSON with members in their current order. Non-ASCII characters are written as UTF-8, `/` unescaped.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Compact JSON with members sorted by key (code point order) at every level.
    public func canonical() -> String { String(decoding: canonicalUTF8(), as: UTF8.self) }

    /// ``canonical()`` as UTF-8 bytes, written in one pass (objects whose members are already in order are not
    /// copied to be sorted).
    public func canonicalUTF8() -> [UInt8] {
        var out: [UInt8] = []
        appendCanonical(to: &out)
        return out
    }

    /// Appends ``canonical()``'s bytes to `out`.
    public func appendCanonical(to out: inout [UInt8]) { append(to: &out, sortingMembers: true) }

    /// Appends ``serialized()``'s bytes (members in their current order) to `out`.
    public func appendSerialized(to out: inout [UInt8]) { append(to: &out, sortingMembers: false) }

    private func append(to out: inout [UInt8], sortingMembers: Bool) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONEscaping.appendQuoted(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.append(to: &out, sortingMembers: sortingMembers)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            var inOrder = true
            if sortingMembers && members.count > 1 {
                for i in 1..<members.count where !utf8Less(members[i - 1].0, members[i].0) {
                    inOrder = false
                    break
                }
            }
            let ordered = inOrder ? members : members.sorted { utf8Less($0.0, $1.0) }
            out.append(UInt8(ascii: "{"))
            for (i, (k, child)) in ordered.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONEscaping.appendQuoted(k, to: &out)
                out.append(UInt8(ascii: ":"))
                child.append(to: &out, sortingMembers: sortingMembers)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The value with every object's members sorted by key.
    public func sortedKeys() -> JSONValue {
        switch self {
        case .array(let items): return .array(items.map { $0.sortedKeys() })
        case .object(let members):
            return .object(
                members.map { ($0.0, $0.1.sortedKeys()) }.sorted {
                    $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars)
                })
        default: return self
        }
    }

    /// Pretty JSON (two-space indent) for people; members in their current order.
    public func pretty(indent: String = "") -> String {
        switch self {
        case .array(let items):
            if items.isEmpty { return "[]" }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.pretty(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let inner = indent + "  "
            return "{\n"
                + members.map { inner + Self.quoted($0.0) + ": " + $0.1.pretty(indent: inner) }.joined(separator: ",\n")
                + "\n" + indent + "}"
        default:
            return serialized()
        }
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): Self.appendQuoted(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out += "," }
                Self.appendQuoted(k, to: &out)
                out += ":"
                v.write(to: &out)
            }
            out += "}"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        appendQuoted(s, to: &out)
        return out
    }

    /// Appends `s` as a JSON string literal (``JSONEscaping``).
    static func appendQuoted(_ s: String, to out: inout String) { JSONEscaping.appendQuoted(s, to: &out) }
}

// MARK: - Parsing

/// A JSON syntax error with its position.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    /// 1-based line and column of the problem.
    public var line: Int
    public var column: Int
    public var offset: Int

    public var description: String { "line \(line), column \(column): \(reason)" }
}

extension JSONValue {
    /// Limits for parsing untrusted JSON.
    public struct Limits: Sendable {
        public var maximumBytes: Int
        public var maximumDepth: Int
        /// The most values (strings, numbers, literals, arrays, objects) one document may hold: each costs far more
        /// memory parsed than its one or two bytes of input, so a cap on bytes alone lets a 32 MB array of zeros
        /// take gigabytes.
        public var maximumValues: Int

        public init(maximumBytes: Int = 64 << 20, maximumDepth: Int = 64, maximumValues: Int = 1 << 21) {
            self.maximumBytes = maximumBytes
            self.maximumDepth = maximumDepth
            self.maximumValues = maximumValues
        }
    }

    /// Checks that `bytes` is one JSON document under `limits` without building it (memory stays flat whatever the
    /// document holds). Member names are not checked for duplicates; ``parse(_:limits:)`` does that.
    /// - Throws: ``JSONParseError`` with line and column.
    public static func validate(_ bytes: some Collection<UInt8>, limits: Limits = Limits()) throws {
        _ = try parseDocument(Array(bytes), limits: limits, build: false)
    }

    /// Parses one JSON document (RFC 8259): UTF-8 (a leading BOM is refused), no trailing data, no duplicate
    /// keys, no lone surrogates, at most `limits.maximumDepth` levels.
    /// - Throws: ``JSONParseError`` with line and column.
    public static func parse(_ bytes: some Collection<UInt8>, limits: Limits = Limits()) throws -> JSONValue {
        try parseDocument(Array(bytes), limits: limits)
    }

    public static func parse(_ text: String) throws -> JSONValue { try parse(Array(text.utf8)) }

    /// One document, built, or only checked (`build` false).
    private static func parseDocument(_ array: [UInt8], limits: Limits, build: Bool = true) throws -> JSONValue {
        var parser = Parser(bytes: array, limits: limits, build: build)
        guard array.count <= limits.maximumBytes else {
            throw parser.error("the document is larger than \(limits.maximumBytes) bytes")
        }
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == array.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        let limits: Limits
        /// False: check the syntax only, keeping nothing (``JSONValue/validate(_:limits:)``, what a ``JSONReader``
        /// skips).
        var build: Bool
        var index = 0
        var values = 0

        init(bytes: [UInt8], limits: Limits, build: Bool = true) {
            self.bytes = bytes
            self.limits = limits
            self.build = build
        }

        func error(_ reason: String) -> JSONParseError {
            var line = 1
            var column = 1
            for b in bytes[..<min(index, bytes.count)] {
                if b == 0x0A {
                    line += 1
                    column = 1
                } else if b & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return JSONParseError(reason: reason, line: line, column: column, offset: index)
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func expect(_ literal: String, _ value: JSONValue) throws -> JSONValue {
            let lit = Array(literal.utf8)
            guard index + lit.count <= bytes.count, Array(bytes[index..<(index + lit.count)]) == lit else {
                throw error("invalid literal")
            }
            index += lit.count
            return value
        }

        mutating func parseValue(depth: Int) throws -> JSONValue {
            guard depth <= limits.maximumDepth else { throw error("nested deeper than \(limits.maximumDepth) levels") }
            guard index < bytes.count else { throw error("unexpected end of input") }
            try countValue()
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""):
                guard build else {
                    try skipString()
                    return .null
                }
                return .string(try parseString())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw error("unexpected character")
            }
        }

        /// Counts one more value against `limits.maximumValues`.
        mutating func countValue() throws {
            values += 1
            guard values <= limits.maximumValues else {
                throw error("more than \(limits.maximumValues) values in one document")
            }
        }

        mutating func parseObject(depth: Int) throws -> JSONValue {
            index += 1
            var members: [(String, JSONValue)] = []
            // Small objects (nearly all) check duplicate names by a linear scan; large ones by a set.
            var keys = Set<String>()
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object([])
            }
            // Room for a few members up front: growing from empty would allocate at one, two and four members.
            members.reserveCapacity(4)
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a member name")
                }
                let keyStart = index
                let key = try parseString()
                let duplicate: Bool
                if !build {
                    duplicate = false
                } else if members.count < 16 {
                    duplicate = members.contains { $0.0 == key }
                } else {
                    if keys.isEmpty { keys = Set(members.map(\.0)) }
                    duplicate = !keys.insert(key).inserted
                }
                guard !duplicate else {
                    index = keyStart
                    throw error("duplicate member name \(JSONValue.quoted(String(key.prefix(40))))")
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                if build { members.append((key, value)) }
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input in an object") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
                index += 1
                return .object(members)
            }
        }

        mutating func parseArray(depth: Int) throws -> JSONValue {
            index += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array([])
            }
            items.reserveCapacity(2)
            while true {
                skipWhitespace()
                let item = try parseValue(depth: depth + 1)
                if build { items.append(item) }
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input in an array") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
                index += 1
                return .array(items)
            }
        }

        mutating func parseNumber() throws -> JSONValue {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            func digits() -> Int {
                let s = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                return index - s
            }
            guard index < bytes.count else { throw error("invalid number") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                guard digits() > 0 else { throw error("invalid number") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw error("invalid number") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard digits() > 0 else { throw error("invalid number") }
            }
            guard index - start <= 64 else { throw error("number literal too long") }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        /// Checks a string like ``parseString()`` and moves past it without building it.
        mutating func skipString() throws {
            var j = index + 1
            while j < bytes.count {
                let b = bytes[j]
                if b == UInt8(ascii: "\"") {
                    index = j + 1
                    return
                }
                if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
                j += 1
            }
            _ = try parseString()
        }

        mutating func parseString() throws -> String {
            index += 1
            // Fast path: a run of plain bytes (no escape, no control character) ending at the closing quote is
            // validated as UTF-8 once and turned into a String in one step.
            let start = index
            var j = index
            var ascii = true
            while j < bytes.count {
                let b = bytes[j]
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
                if b >= 0x80 { ascii = false }
                j += 1
            }
            if j < bytes.count, bytes[j] == UInt8(ascii: "\"") {
                if ascii {
                    index = j + 1
                    return String(decoding: bytes[start..<j], as: UTF8.self)
                }
                // The standard library's validation is strict UTF-8 too (no overlong forms, surrogates or values
                // past U+10FFFF); the scalar-by-scalar check below finds where a bad byte is, for the error.
                if let text = String(validating: bytes[start..<j], as: UTF8.self) {
                    index = j + 1
                    return text
                }
                index = start - 1
                return try parseStringScalarByScalar()
            }
            // Escapes: runs of plain bytes are copied whole and each escape is appended as UTF-8; the result is
            // validated once. On any error the string is read again scalar by scalar, which throws the first error
            // in reading order, where it is.
            var out: [UInt8] = []
            out.reserveCapacity(j - start + 16)
            out.append(contentsOf: bytes[start..<j])
            index = j
            do {
                while true {
                    guard index < bytes.count else { throw error("unterminated string") }
                    let b = bytes[index]
                    if b == UInt8(ascii: "\"") {
                        guard let text = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8") }
                        index += 1
                        return text
                    }
                    if b == UInt8(ascii: "\\") {
                        index += 1
                        let scalar = try escapedScalar()
                        UTF8.encode(scalar) { out.append($0) }
                        continue
                    }
                    guard b >= 0x20 else { throw error("control character in a string") }
                    let run = index
                    while index < bytes.count {
                        let c = bytes[index]
                        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
                        index += 1
                    }
                    out.append(contentsOf: bytes[run..<index])
                }
            } catch {
                index = start - 1
                return try parseStringScalarByScalar()
            }
        }

        /// The scalar of the escape after a backslash (`index` at the character after it).
        mutating func escapedScalar() throws -> Unicode.Scalar {
            guard index < bytes.count else { throw error("unterminated escape") }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let first = try hex4()
                if (0xD800...0xDBFF).contains(first) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else {
                        throw error("lone surrogate in \\u escape")
                    }
                    index += 2
                    let second = try hex4()
                    guard (0xDC00...0xDFFF).contains(second) else { throw error("invalid surrogate pair") }
                    return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
                }
                guard !(0xDC00...0xDFFF).contains(first), let scalar = Unicode.Scalar(first) else {
                    throw error("lone surrogate in \\u escape")
                }
                return scalar
            default: throw error("invalid escape")
            }
        }

        /// ``parseString()`` one scalar at a time, checking each as it goes (`index` at the opening quote): the
        /// reference the faster paths fall back to, so that an error is the first in reading order and says where.
        mutating func parseStringScalarByScalar() throws -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            while true {
                guard index < bytes.count else { throw error("unterminated string") }
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    index += 1
                    return String(scalars)
                }
                if b == UInt8(ascii: "\\") {
                    index += 1
                    scalars.append(try escapedScalar())
                    continue
                }
                guard b >= 0x20 else { throw error("control character in a string") }
                // Decode one UTF-8 scalar strictly.
                let (scalar, length) = try decodeUTF8(at: index)
                scalars.append(scalar)
                index += length
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for i in 0..<4 {
                let c = bytes[index + i]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 0x30)
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 0x61 + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 0x41 + 10)
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | d
            }
            index += 4
            return v
        }

        func decodeUTF8(at i: Int) throws -> (Unicode.Scalar, Int) {
            let b0 = bytes[i]
            if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
            let length: Int
            var value: UInt32
            switch b0 {
            case 0xC2...0xDF:
                length = 2
                value = UInt32(b0 & 0x1F)
            case 0xE0...0xEF:
                length = 3
                value = UInt32(b0 & 0x0F)
            case 0xF0...0xF4:
                length = 4
                value = UInt32(b0 & 0x07)
            default: throw error("invalid UTF-8")
            }
            guard i + length <= bytes.count else { throw error("invalid UTF-8") }
            for k in 1..<length {
                let b = bytes[i + k]
                guard b & 0xC0 == 0x80 else { throw error("invalid UTF-8") }
                value = value << 6 | UInt32(b & 0x3F)
            }
            let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
            guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value),
                let scalar = Unicode.Scalar(value)
            else {
                throw error("invalid UTF-8")
            }
            return (scalar, length)
        }
    }
}

/// Compares two strings by their UTF-8 bytes (which is Unicode code point order): the one ordering used everywhere
/// (canonical JSON, the sync view, the stored view), independent of locale and of Unicode normalization.
@inline(__always)
public func utf8Less(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { pa in
        b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
            let n = min(pa.count, pb.count)
            if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                let c = memcmp(x, y, n)
                if c != 0 { return c < 0 }
            }
            return pa.count < pb.count
        }
    }
    if let fast, let result = fast { return result }
    return a.utf8.lexicographicallyPrecedes(b.utf8)
}
