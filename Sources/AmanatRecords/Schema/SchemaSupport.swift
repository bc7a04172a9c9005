import Foundation

// Small pieces the schema validator needs: JSON Pointers, exact decimal numbers, JSON Schema equality,
// ECMA-262-compatible patterns on top of NSRegularExpression, and the `format` assertions.

/// One step of a path into a JSON value.
public enum PathComponent: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let k): return k
        case .index(let i): return String(i)
        }
    }
}

/// JSON Pointer (RFC 6901) helpers.
public enum JSONPointer {
    /// `/testifier/phones/0` for `[.key("testifier"), .key("phones"), .index(0)]`; the root is `""`.
    public static func string(_ path: [PathComponent]) -> String {
        var out = ""
        for step in path {
            out += "/"
            switch step {
            case .key(let k):
                out += k.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            case .index(let i): out += String(i)
            }
        }
        return out
    }

    /// Parses a pointer; tokens made only of ASCII digits (no leading zero unless `0`) become `.index`.
    /// Returns nil for text that is not a pointer (does not start with `/`, bad `~` escape).
    public static func components(_ pointer: String) -> [PathComponent]? {
        if pointer.isEmpty { return [] }
        // Work on UTF-8 bytes: '/' and '~' are ASCII, so tokens always end on character boundaries.
        let utf8 = pointer.utf8
        guard utf8.first == UInt8(ascii: "/") else { return nil }
        var result: [PathComponent] = []
        var start = utf8.index(after: utf8.startIndex)
        while true {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            let raw = utf8[start..<end]
            let token: String
            if raw.contains(UInt8(ascii: "~")) {
                var bytes: [UInt8] = []
                var iterator = raw.makeIterator()
                while let byte = iterator.next() {
                    guard byte == UInt8(ascii: "~") else {
                        bytes.append(byte)
                        continue
                    }
                    switch iterator.next() {
                    case UInt8(ascii: "0"): bytes.append(UInt8(ascii: "~"))
                    case UInt8(ascii: "1"): bytes.append(UInt8(ascii: "/"))
                    default: return nil
                    }
                }
                token = String(decoding: bytes, as: UTF8.self)
            } else {
                token = String(Substring(raw))
            }
            let digits = token.utf8
            let isIndex =
                !digits.isEmpty && digits.count <= 9 && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                && (digits.count == 1 || digits.first != UInt8(ascii: "0"))
            result.append(isIndex ? .index(Int(token)!) : .key(token))
            if end == utf8.endIndex { break }
            start = utf8.index(after: end)
        }
        return result
    }
}

/// An exact decimal value of a JSON number literal: `0.d1d2d3… × 10^exponent`, digits without leading or
/// trailing zeros (empty for zero). Used for `type: integer`, `minimum`/`maximum` and equality, so no
/// precision is lost to Double.
struct DecimalNumber: Hashable, Comparable {
    var negative: Bool
    var digits: [UInt8]
    var exponent: Int

    init?(_ literal: String) {
        let bytes = Array(literal.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var all: [UInt8] = []
        var integerDigits = 0
        while i < bytes.count, (0x30...0x39).contains(bytes[i]) {
            all.append(bytes[i] - 0x30)
            integerDigits += 1
            i += 1
        }
        guard integerDigits > 0 else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) {
                all.append(bytes[i] - 0x30)
                i += 1
            }
            guard i > start else { return nil }
        }
        var exponent = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let start = i
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) {
                // Clamp absurd exponents: anything beyond 10^9 is "huge" for every comparison we make.
                if exponent < 1_000_000_000 { exponent = exponent * 10 + Int(bytes[i] - 0x30) }
                i += 1
            }
            guard i > start else { return nil }
            if expNegative { exponent = -exponent }
        }
        guard i == bytes.count else { return nil }
        var point = integerDigits + exponent
        var first = 0
        while first < all.count, all[first] == 0 {
            first += 1
            point -= 1
        }
        var last = all.count
        while last > first, all[last - 1] == 0 { last -= 1 }
        self.digits = Array(all[first..<last])
        if digits.isEmpty {
            self.negative = false
            self.exponent = 0
        } else {
            self.negative = negative
            self.exponent = point
        }
    }

    var isZero: Bool { digits.isEmpty }
    var isInteger: Bool { digits.isEmpty || digits.count <= exponent }

    static func < (a: DecimalNumber, b: DecimalNumber) -> Bool {
        if a.negative != b.negative { return a.negative }
        if a.negative { return magnitudeLess(b, a) }
        return magnitudeLess(a, b)
    }

    private static func magnitudeLess(_ a: DecimalNumber, _ b: DecimalNumber) -> Bool {
        if a.isZero || b.isZero { return a.isZero && !b.isZero }
        if a.exponent != b.exponent { return a.exponent < b.exponent }
        return a.digits.lexicographicallyPrecedes(b.digits)
    }

    /// The number written plainly for messages (the schema's own bounds, never instance values).
    var plain: String {
        if digits.isEmpty { return "0" }
        var s = negative ? "-" : ""
        let d = digits.map { String($0) }.joined()
        if exponent <= 0 {
            s += "0." + String(repeating: "0", count: -exponent) + d
        } else if exponent >= digits.count {
            s += d + String(repeating: "0", count: exponent - digits.count)
        } else {
            s += String(d.prefix(exponent)) + "." + String(d.dropFirst(exponent))
        }
        return s
    }
}

/// Equality as JSON Schema defines it: numbers by value, strings by code points, objects regardless of
/// member order.
func schemaEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)):
        if x == y { return true }
        guard let dx = DecimalNumber(x), let dy = DecimalNumber(y) else { return false }
        return dx == dy
    case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { schemaEqual($0, $1) }
    case (.object(let x), .object(let y)):
        guard x.count == y.count else { return false }
        for (key, value) in x {
            guard let other = y.first(where: { $0.0.unicodeScalars.elementsEqual(key.unicodeScalars) }),
                schemaEqual(value, other.1)
            else { return false }
        }
        return true
    default: return false
    }
}

/// A byte string that is equal for two values exactly when `schemaEqual` says so (for `uniqueItems` in
/// linear time).
func schemaEqualityKey(_ value: JSONValue) -> [UInt8] {
    var out: [UInt8] = []
    func put(_ v: JSONValue) {
        switch v {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .number(let n):
            out.append(3)
            if let d = DecimalNumber(n) {
                out.append(d.negative ? 1 : 0)
                out += Array(String(d.exponent).utf8)
                out.append(UInt8(ascii: ":"))
                out += d.digits.map { $0 + 0x30 }
            } else {
                out += Array(n.utf8)
            }
            out.append(0xFF)
        case .string(let s):
            out.append(4)
            putString(s)
        case .array(let items):
            out.append(5)
            out += Array(String(items.count).utf8)
            out.append(UInt8(ascii: ":"))
            items.forEach(put)
        case .object(let members):
            out.append(6)
            out += Array(String(members.count).utf8)
            out.append(UInt8(ascii: ":"))
            for (k, v) in members.sorted(by: { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }) {
                putString(k)
                put(v)
            }
        }
    }
    func putString(_ s: String) {
        // Length-prefixed UTF-8 bytes: exact code points, no canonical-equivalence folding.
        out += Array(String(s.utf8.count).utf8)
        out.append(UInt8(ascii: ":"))
        out += Array(s.utf8)
    }
    put(value)
    return out
}

/// A `pattern` compiled for ICU with the ECMA-262 meaning the schema was written for: `$` is end of input
/// (ICU would also accept a final line break), `.` excludes ECMA line terminators, `\d`/`\w` are ASCII.
/// Matching is a search (JSON Schema patterns are not implicitly anchored).
final class SchemaPattern: @unchecked Sendable {
    // NSRegularExpression is immutable after creation and documented as safe to use from several threads.
    let source: String
    private let regex: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        let translated = try Self.translate(source)
        do {
            regex = try NSRegularExpression(pattern: translated, options: [])
        } catch {
            throw PatternError.invalid
        }
    }

    enum PatternError: Error { case invalid, unsupported(String) }

    func matches(_ s: String) -> Bool {
        let ns = s as NSString
        return regex.firstMatch(in: s, options: [], range: NSRange(location: 0, length: ns.length)) != nil
    }

    static func translate(_ pattern: String) throws -> String {
        var out = ""
        var inClass = false
        var classStart = false
        var chars = Array(pattern)
        chars.append("\u{0}")  // sentinel, never emitted
        var i = 0
        while i < chars.count - 1 {
            let c = chars[i]
            if c == "\\" {
                guard i + 1 < chars.count - 1 else { throw PatternError.unsupported("trailing backslash") }
                let e = chars[i + 1]
                switch (e, inClass) {
                case ("d", false): out += "[0-9]"
                case ("D", false): out += "[^0-9]"
                case ("w", false): out += "[A-Za-z0-9_]"
                case ("W", false): out += "[^A-Za-z0-9_]"
                case ("d", true): out += "0-9"
                case ("w", true): out += "A-Za-z0-9_"
                case ("D", true), ("W", true): throw PatternError.unsupported("\\\(e) inside a character class")
                case ("p", _), ("P", _), ("u", _), ("x", _), ("c", _), ("k", _), ("b", _), ("B", _):
                    throw PatternError.unsupported("escape \\\(e)")
                default: out += "\\\(e)"
                }
                i += 2
                classStart = false
                continue
            }
            if inClass {
                if c == "]" && !classStart {
                    inClass = false
                    out += "]"
                } else if c == "]" {
                    throw PatternError.unsupported("empty character class")
                } else if c == "[" || c == "&" || c == "{" || c == "}" {
                    // ICU gives these meaning inside a set (nesting, operators); ECMA takes them literally.
                    out += "\\\(c)"
                } else {
                    out.append(c)
                }
                classStart = false
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                classStart = true
                out += "["
                if chars[i + 1] == "^" {
                    out += "^"
                    i += 1
                }
            case "$": out += "\\z"
            case ".": out += "[^\\n\\r\\u2028\\u2029]"
            default: out.append(c)
            }
            i += 1
        }
        guard !inClass else { throw PatternError.unsupported("unterminated character class") }
        return out
    }
}

/// The `format` values the validator asserts.
enum SchemaFormat: String {
    case date
    case dateTime = "date-time"
    case email
    case uri

    var message: String {
        switch self {
        case .date: return "is not a valid date (YYYY-MM-DD, a real calendar date)"
        case .dateTime: return "is not a valid RFC 3339 date-time with offset (e.g. 2020-02-17T12:00:00+06:00)"
        case .email: return "is not a valid e-mail address"
        case .uri: return "is not a valid absolute URI"
        }
    }

    func accepts(_ s: String) -> Bool {
        switch self {
        case .date: return FormatCheck.fullDate(Array(s.utf8)[...])
        case .dateTime: return FormatCheck.dateTime(s)
        case .email: return FormatCheck.email(s)
        case .uri: return FormatCheck.uri(s)
        }
    }
}

enum FormatCheck {
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.allSatisfy(isDigit) else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// YYYY-MM-DD and a real calendar date.
    static func fullDate(_ b: ArraySlice<UInt8>) -> Bool {
        let b = Array(b)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = number(b[0..<4]), let m = number(b[5..<7]), let d = number(b[8..<10])
        else { return false }
        return (1...12).contains(m) && d >= 1 && d <= daysIn(year: y, month: m)
    }

    /// True unless `s` has the full `YYYY-MM-DD` shape and is not a real date (partial dates pass).
    static func partialDateIsReal(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10 else { return true }
        return fullDate(b[...])
    }

    /// RFC 3339 `date-time`: full-date "T" HH:MM:SS[.frac] (Z | ±HH:MM); `t`/`z` accepted as RFC 3339 allows.
    static func dateTime(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 20, fullDate(b[0..<10]), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let hh = number(b[11..<13]), let mm = number(b[14..<16]), let ss = number(b[17..<19]),
            hh <= 23, mm <= 59, ss <= 60
        else { return false }
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
            let oh = number(b[(i + 1)..<(i + 3)]), let om = number(b[(i + 4)..<(i + 6)])
        else { return false }
        return oh <= 23 && om <= 59
    }

    /// A practical subset of RFC 5321 addresses: dot-atom local part, a domain of at least two DNS labels.
    static func email(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
            !local.isEmpty, local.utf8.count <= 64, domain.utf8.count <= 253
        else { return false }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-".utf8)
        let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { atext.contains($0) } }) else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            let u = Array(label.utf8)
            guard !u.isEmpty, u.count <= 63, u.first != UInt8(ascii: "-"), u.last != UInt8(ascii: "-") else {
                return false
            }
            return u.allSatisfy { isDigit($0) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == UInt8(ascii: "-") }
        }
    }

    /// RFC 3986 absolute URI: a scheme, ":", then only URI characters with well-formed percent escapes.
    static func uri(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let colon = b.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        func alpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
        guard alpha(b[0]),
            b[1..<colon].allSatisfy({ alpha($0) || isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else {
            return false
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=".utf8)
        var i = colon + 1
        while i < b.count {
            if b[i] == UInt8(ascii: "%") {
                guard i + 2 < b.count, isHex(b[i + 1]), isHex(b[i + 2]) else { return false }
                i += 3
                continue
            }
            guard allowed.contains(b[i]) else { return false }
            i += 1
        }
        // "http:" alone or "https://" with an empty authority is not a usable link.
        let rest = b[(colon + 1)...]
        if rest.starts(with: Array("//".utf8)) {
            let authority = rest.dropFirst(2).prefix {
                $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#")
            }
            return !authority.isEmpty
        }
        return !rest.isEmpty
    }

    static func isHex(_ c: UInt8) -> Bool { isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) }
}
