import AmanatRecords
import Foundation
import Testing

@Suite("JSON reader: members read or skipped, checked as parse checks them")
struct JSONReaderTests {
    /// Reads a document whole through the reader: objects member by member, everything else built.
    static func readWhole(_ reader: inout JSONReader) throws -> JSONValue {
        guard reader.isBeforeObject else { return try reader.readValue() }
        var members: [(String, JSONValue)] = []
        #expect(try reader.readMembers { reader, name in members.append((name, try readWhole(&reader))) })
        return .object(members)
    }

    static let documents = [
        #"{"consent":"public","heads":["a","b"],"summary":{"tags":["x\u00e9"],"n":[1,2.5e3,{"k":null}]}}"#,
        #"{"summary":{"a":true},"consent":"internal"}"#, #"{}"#, #"{"heads":[]}"#, #"[{"consent":"x"}]"#,
        #"  {"consent" : "partners" , "z" : "\"q\""}  "#, #""consent""#, "12", "-0.5e-3", "null", "true",
        #"{"a":{"b":{"c":{}}},"d":[[],[{}]],"e":"\ud83d\ude00"}"#,
        "{" + (0..<20).map { #""m\#($0)":\#($0)"# }.joined(separator: ",") + "}",
    ]

    @Test func aDocumentReadMemberByMemberIsTheParsedDocument() throws {
        var compared = 0
        for text in Self.documents {
            let parsed = try JSONValue.parse(text)
            var reader = try JSONReader(Array(text.utf8))
            #expect(try Self.readWhole(&reader) == parsed, "\(text)")
            try reader.finish()
            // Read whole in one step, or skipped whole
            var whole = try JSONReader(Array(text.utf8))
            #expect(try whole.readValue() == parsed)
            try whole.finish()
            var skipped = try JSONReader(Array(text.utf8))
            try skipped.skipValue()
            try skipped.finish()
            // Members a body leaves are skipped
            var leaving = try JSONReader(Array(text.utf8))
            var names: [String] = []
            try leaving.readMembers { _, name in names.append(name) }
            try leaving.finish()
            #expect(names == (parsed.objectValue?.map(\.0) ?? []))
            compared += 1
        }
        #expect(compared == Self.documents.count)
    }

    @Test func aValueOfAnotherTypeReadsAsAbsentAndIsSkipped() throws {
        let text = #"{"s":5,"n":"5","a":{"x":1},"t":[1,"a",null,"b",[]],"o":[],"m":"x","k":-12}"#
        var reader = try JSONReader(Array(text.utf8))
        var got: [String: String] = [:]
        let isObject = try reader.readMembers { reader, name in
            switch name {
            case "s": got[name] = try reader.readString() ?? "nil"
            case "n": got[name] = try reader.readNumber() ?? "nil"
            case "a": got[name] = try reader.readStrings().map { $0.joined(separator: "|") } ?? "nil"
            case "t": got[name] = try reader.readStrings().map { $0.joined(separator: "|") } ?? "nil"
            case "o": got[name] = try reader.readMembers { _, _ in } ? "object" : "not an object"
            case "m": got[name] = try reader.readString() ?? "nil"
            case "k": got[name] = try reader.readNumber() ?? "nil"
            default: Issue.record("unexpected member \(name)")
            }
        }
        try reader.finish()
        #expect(isObject)
        #expect(got == ["s": "nil", "n": "nil", "a": "nil", "t": "a|b", "o": "not an object", "m": "x", "k": "-12"])
    }

    @Test func whatParseRefusesTheReaderRefusesOnceReadToTheEnd() throws {
        let bad = [
            #"{"consent":"a","consent":"b"}"#, #"{"x":1,"y":2,"x":3}"#, #"{"consent":"a","x":[1,}"#,
            #"{"consent":"a","x":"\q"}"#, #"{"consent":"a"} x"#, #"{"x":"\#u{01}"}"#, #"{"consent":"a""#,
            #"{"s":{"a":1,"a":2}}"#, "", " ", "{", #"{"a"}"#, #"{"a":1,}"#, #"{"a":1 "b":2}"#, "[1,2", "01",
            #""\ud800""#, "{" + (0..<20).map { #""m\#($0 % 19)":1"# }.joined(separator: ",") + "}",
            "nul", "\u{FEFF}{}",
        ]
        var refused = 0
        for text in bad {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONValue.parse(text) }
            // Read member by member, skipping every value (a duplicate name inside a skipped value is not looked
            // for, as `validate` does not)
            let nestedDuplicate = text == #"{"s":{"a":1,"a":2}}"#
            var reader = try JSONReader(Array(text.utf8))
            let skipping = Result {
                try reader.readMembers { reader, _ in try reader.skipValue() }
                try reader.finish()
            }
            #expect((try? skipping.get()) == nil ? !nestedDuplicate : nestedDuplicate, "\(text)")
            // Read member by member, building every value
            #expect(throws: JSONParseError.self, "\(text)") {
                var reader = try JSONReader(Array(text.utf8))
                _ = try Self.readWhole(&reader)
                try reader.finish()
            }
            refused += 1
        }
        #expect(refused == bad.count)
    }

    @Test func aValueIsReadOnceWhereOneIsDue() throws {
        // A body that reads two values would read past a missing `,`: refused, as parse refuses such a document
        for text in [#"{"a":"x""y"}"#, #"{"a":1[2]}"#, #"{"a":"x","b":"y"}"#] {
            #expect(throws: JSONParseError.self, "\(text)") {
                var reader = try JSONReader(Array(text.utf8))
                try reader.readMembers { reader, _ in
                    _ = try reader.readString()
                    _ = try reader.readValue()
                }
            }
        }
        // A second document after the first, or a read after the document was read
        var reader = try JSONReader(Array("1 2".utf8))
        #expect(try reader.readNumber() == "1")
        #expect(throws: JSONParseError.self) { try reader.readNumber() }
        // `finish` reads a document nothing read: empty input is refused there too
        var empty = try JSONReader([])
        #expect(throws: JSONParseError.self) { try empty.finish() }
        var unread = try JSONReader(Array(#"{"a":[1,{"b":null}]}"#.utf8))
        try unread.finish()
    }

    @Test func theLimitsHoldInWhatIsSkipped() throws {
        let deep = #"{"x":"# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}"
        #expect(throws: JSONParseError.self) {
            var reader = try JSONReader(Array(deep.utf8))
            try reader.readMembers { reader, _ in try reader.skipValue() }
        }
        let deepObjects = String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70)
        func readAll(_ reader: inout JSONReader) throws {
            guard try reader.readMembers({ reader, _ in try readAll(&reader) }) else { return }
        }
        #expect(throws: JSONParseError.self) {
            var reader = try JSONReader(Array(deepObjects.utf8))
            try readAll(&reader)
        }
        let limits = JSONValue.Limits(maximumBytes: 1 << 20, maximumDepth: 64, maximumValues: 100)
        let many = #"{"a":1,"b":"# + String(decoding: JSONLimitsTests.zeros(200), as: UTF8.self) + "}"
        #expect(throws: JSONParseError.self) {
            var reader = try JSONReader(Array(many.utf8), limits: limits)
            try reader.readMembers { reader, _ in try reader.skipValue() }
        }
        #expect(throws: JSONParseError.self) {
            _ = try JSONReader(Array(repeating: UInt8(ascii: " "), count: 100), limits: .init(maximumBytes: 99))
        }
    }
}
