import AmanatRecords
import AmanatStore
import Foundation
import Testing

@testable import AmanatWorkspace

/// `amanat add` streams: files are read, signed and inserted a batch at a time into one transaction. A CSV file of
/// many batches adds every row in order; a bad row in the last batch leaves the store exactly as it was.
@Suite("Streaming add")
struct StreamingAddTests {
    typealias Pair = WorkspaceFlowTests.Pair

    static let header = "testimony.consent,provenance.organization,provenance.reference,testimony.transcript"

    /// `count` rows with the case references SYN-ADD-1… (every third with a multi-line quoted transcript); `bad`:
    /// the 1-based data row whose consent is not a valid value.
    static func csv(_ count: Int, bad: Int? = nil) -> String {
        var text = header + "\r\n"
        for i in 1...count {
            let consent = i == bad ? "everyone" : ["public", "partners", "internal"][i % 3]
            let transcript = i % 3 == 0 ? "\"Synthetic line one.\nSynthetic, line two.\"" : "Synthetic testimony \(i)."
            text += "\(consent),Org (synthetic),SYN-ADD-\(i),\(transcript)\r\n"
            if i == 5 { text += ",,,\r\n" }  // a blank row still counts as a row
        }
        return text
    }

    static func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The data row of the i-th record (1-based) of ``csv(_:bad:)``: the header is row 1 and a blank row follows
    /// record 5.
    static func row(_ i: Int) -> Int { i + 1 + (i > 5 ? 1 : 0) }

    @Test func aFileOfManyBatchesAddsEveryRowInOrder() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let service = try RecordService(workspace: p.a)
        let key = try p.a.signingKey()
        let count = 23
        try Self.write(Self.csv(count), p.path("many.csv"))
        let single = try WorkspaceFlowTests.example("minimal-partial.json")
        try Self.write(single.canonical(), p.path("one.json"))

        var progress: [UInt64] = []
        let added = try service.add(
            files: [p.path("many.csv"), p.path("one.json")], key: key, batchSize: 4,
            progress: { done, _ in progress.append(done) })
        #expect(added.ids.count == count + 1)
        #expect(Set(added.ids).count == count + 1)
        #expect(added.origins.dropLast().map(\.row) == (1...count).map { Self.row($0) })
        #expect(added.origins.last == RecordFiles.Origin(file: p.path("one.json")))
        #expect(progress.count == (count + 3) / 4 + 1)
        #expect(progress == progress.sorted())
        #expect(added.warnings.isEmpty)

        // Each id holds its own row, in input order.
        let store = service.store
        for (i, id) in added.ids.dropLast().enumerated() {
            let reference = try store.lastContent(record: id)?["provenance"]?["reference"]?.stringValue
            #expect(reference == "SYN-ADD-\(i + 1)")
        }
        #expect(try store.lastContent(record: added.ids.last!) == single.sortedKeys())
        #expect(try store.counts() == (count + 1, count + 1))
        // Every new version went into the log, and the stored view matches a rebuild.
        #expect(try store.logSize() == UInt64(count + 1))
        let hash = try store.stateHash()
        try store.rebuildView(authority: service.authority)
        #expect(try store.stateHash() == hash)
        // The same rows added in one batch give records with the same contents.
        let again = try service.add(files: [p.path("many.csv")], key: key)
        for (first, second) in zip(added.ids, again.ids) {
            #expect(try store.lastContent(record: first) == store.lastContent(record: second))
        }
    }

    @Test(arguments: [false, true])
    func aBadRowInTheLastBatchLeavesTheStoreAsItWas(syntaxError: Bool) throws {
        let p = try Pair()
        defer { p.cleanup() }
        let service = try RecordService(workspace: p.a)
        let key = try p.a.signingKey()
        _ = try service.add(try StreamingImportTests.examples.map(WorkspaceFlowTests.example), key: key)
        let store = service.store
        let before = (
            hash: try store.stateHash(), counts: try store.counts(), log: try store.logSize(),
            ids: try store.allVersionIds()
        )

        let count = 22
        var text = Self.csv(count, bad: syntaxError ? nil : count)
        if syntaxError { text += "public,Org (synthetic),SYN-ADD-LAST,\"never closed\r\n" }
        try Self.write(text, p.path("bad.csv"))
        do {
            _ = try service.add(files: [p.path("bad.csv")], key: key, batchSize: 4)
            Issue.record("a file with a bad last row was added")
        } catch let error as AmanatError {
            #expect(error.kind == .malformedInput)
            let row = syntaxError ? Self.row(count + 1) : Self.row(count)
            #expect(error.message.contains("bad.csv: row \(row)"))
            #expect(error.message.contains("Nothing was added"))
        }
        #expect(try store.stateHash() == before.hash)
        #expect(try store.counts() == before.counts)
        #expect(try store.logSize() == before.log)
        #expect(try store.allVersionIds() == before.ids)
        // A fresh look at the store file agrees.
        let reopened = try RecordService(workspace: p.a).store
        #expect(try reopened.counts() == before.counts)
        #expect(try reopened.stateHash() == before.hash)
    }
}
