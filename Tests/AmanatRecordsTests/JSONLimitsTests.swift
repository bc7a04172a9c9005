import AmanatRecords
import Foundation
import Testing

/// Issue #12 item 3: a cap on the number of values per JSON document, and a syntax check that keeps nothing.
@Suite("JSON: limits on values, not only bytes")
struct JSONLimitsTests {
    /// `[0,0,…]` with `count` zeros: two bytes of input per value.
    static func zeros(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x5B]
        bytes.reserveCapacity(2 * count + 1)
        for i in 0..<count {
            if i > 0 { bytes.append(0x2C) }
            bytes.append(0x30)
        }
        bytes.append(0x5D)
        return bytes
    }

    @Test func aDocumentWithMoreValuesThanTheCapIsRefusedWithAClearError() throws {
        let limits = JSONValue.Limits(maximumValues: 1000)
        // 999 zeros and the array are 1000 values: accepted
        let atCap = try JSONValue.parse(Self.zeros(999), limits: limits)
        #expect(atCap.arrayValue?.count == 999)
        // One more is refused, naming the cap
        #expect {
            try JSONValue.parse(Self.zeros(1000), limits: limits)
        } throws: { error in
            (error as? JSONParseError)?.reason == "more than 1000 values in one document"
        }
        // Objects and strings count too
        let members = "{" + (0..<1200).map { "\"k\($0)\":\"v\"" }.joined(separator: ",") + "}"
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(Array(members.utf8), limits: limits) }
    }

    @Test func theDefaultCapStopsAnArrayOfTinyValues() throws {
        // 2^21 + 1 values in about 4 MB: refused by default, long before memory multiplies
        let bytes = Self.zeros(1 << 21)
        #expect(throws: JSONParseError.self) { _ = try JSONValue.parse(bytes) }
        #expect(JSONValue.Limits().maximumValues == 1 << 21)
    }

    @Test func validateChecksSyntaxWithoutBuilding() throws {
        let unlimited = JSONValue.Limits(maximumValues: .max)
        try JSONValue.validate(Self.zeros(1 << 21), limits: unlimited)
        for bad in ["[0,]", "{\"a\":}", "[1 2]", "\u{FEFF}[]", "[\"\u{01}\"]", "[0] x", "{\"a\":1,}", "01"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.validate(Array(bad.utf8)) }
        }
        // The depth limit holds while validating too
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(throws: JSONParseError.self) { try JSONValue.validate(Array(deep.utf8)) }
        // And the value cap, when one is given
        #expect(throws: JSONParseError.self) {
            try JSONValue.validate(Self.zeros(100), limits: JSONValue.Limits(maximumValues: 50))
        }
        // Strings with escapes, non-ASCII and control characters are checked while skipped
        for bad in ["[\"\\x\"]", "[\"\u{01}\"]", "[\"\\ud800\"]", "[\"abc]"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.validate(Array(bad.utf8)) }
        }
        try JSONValue.validate(Array("[\"a\\n\\u00e9 ü 中\"]".utf8))
    }

}
