import AmanatCrypto
import AmanatPublish
import AmanatRecords
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// `publish` reads, redacts and writes the records a batch at a time on every core and streams index.json: the
/// folder must not depend on the batch size, equal what publishing each record on its own makes, and its index
/// must be the one document ``PublicationIndex/json(_:publisher:policy:publishedAt:identities:media:)`` makes of
/// all the records at once.
@Suite("publish in batches")
struct PublishBatchTests {
    typealias Pair = WorkspaceFlowTests.Pair

    /// A store at A with 9 public records (one edited by A, so its presented version is not its create version;
    /// one collected by B and imported), one for partners and one internal.
    static func workspace() throws -> (Pair, expectedPublic: Int, expectedSkipped: Int) {
        let p = try Pair()
        let service = try RecordService(workspace: p.a)
        let key = try p.a.signingKey()
        let publicExamples = [
            "en-survivor-public.json", "kk-cyrl-relative-public.json", "kk-latn-relative-public.json",
            "ug-arab-relative-public.json",
        ]
        var contents = try publicExamples.map(WorkspaceFlowTests.example)
        contents += try publicExamples.map(WorkspaceFlowTests.example)
        contents.append(try WorkspaceFlowTests.example("ru-survivor-partners.json"))
        contents.append(try WorkspaceFlowTests.example("zh-relative-internal.json"))
        let ids = try service.add(contents, key: key)
        // An edit by A: the presented version is a later one, and the annotation carries the origin.
        let (_, current, _) = try service.editableContent(ids[0])
        let edited = try JSONValue.parse(
            Array(current.serialized().replacingOccurrences(of: "kindergarten teacher", with: "music teacher").utf8))
        guard case .signed = try service.edit(ids[0], content: edited, key: key) else {
            Issue.record("the edit signed nothing")
            return (p, 0, 0)
        }
        // A record B collected, imported at A.
        _ = try RecordService(workspace: p.b).add(
            [try WorkspaceFlowTests.example("kk-latn-relative-public.json")], key: try p.b.signingKey())
        try LogFlowTests.seal(p.b, for: "steppe", p.path("ba.amanat"))
        _ = try BundleImport.importBundle(p.path("ba.amanat"), into: p.a)
        return (p, 9, 2)
    }

    static func policy() throws -> PolicyFile {
        try Workspace.loadPolicy(PackagePaths.url("Sources/AmanatCLI/Resources/public-policy.yaml").path)
    }

    /// The files of a folder by name.
    static func files(_ folder: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = Array(try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(name)))
        }
        return files
    }

    /// An annotation's payload without its time of signing (`iat`).
    static func annotationPayload(_ bytes: [UInt8]) throws -> JSONValue {
        let parts = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .newlines).split(separator: ".")
        try #require(parts.count == 3)
        let payload = try JSONValue.parse(try #require(Base64URL.decode(String(parts[1]))))
        guard case .object(let members) = payload else { throw AmanatError(.malformedInput, "not an object") }
        return .object(members.filter { $0.0 != "iat" })
    }

    /// index.json with its time of publication set to 0.
    static func timeless(_ index: [UInt8]) throws -> JSONValue {
        guard case .object(let members) = try JSONValue.parse(index) else {
            throw AmanatError(.malformedInput, "index.json is not an object")
        }
        return .object(members.map { $0.0 == "publishedAt" ? ($0.0, .number("0")) : $0 })
    }

    /// Two folders hold the same files with the same bytes, but for the times of signing and publication.
    static func expectSame(_ x: [String: [UInt8]], _ y: [String: [UInt8]], _ label: String) throws {
        #expect(x.keys.sorted() == y.keys.sorted(), "\(label): the file names differ")
        for (name, bytes) in x {
            let other = try #require(y[name])
            if name.hasSuffix(Annotation.fileSuffix) {
                #expect(try annotationPayload(bytes) == annotationPayload(other), "\(label): \(name)")
            } else if name == PublicationIndex.fileName {
                #expect(try timeless(bytes) == timeless(other), "\(label): \(name)")
            } else {
                #expect(bytes == other, "\(label): \(name)")
            }
        }
    }

    @Test func theFolderDoesNotDependOnTheBatchSizeAndTheIndexIsTheWholeDocument() throws {
        let (p, expectedPublic, expectedSkipped) = try Self.workspace()
        defer { p.cleanup() }
        let policy = try Self.policy()
        var folders: [[String: [UInt8]]] = []
        var recordOrders: [[String]] = []
        for (i, size) in [1, 3, 512].enumerated() {
            var streamed: [String] = []
            var progressed = 0
            let result = try p.a.publish(
                [], policy: policy, to: p.path("out-\(size)"), batchSize: size,
                progress: { done, _ in progressed = done }, onRecord: { streamed.append($0.recordId) })
            #expect(result.records.isEmpty && result.count == expectedPublic)
            #expect(result.skipped.count == expectedSkipped)
            #expect(progressed == expectedPublic + expectedSkipped)
            #expect(result.identities.count == 2)
            recordOrders.append(streamed)
            folders.append(try Self.files(p.path("out-\(size)")))
            // Presentation, annotation and log proof per record, the two identities and the index.
            #expect(folders[i].count == 3 * expectedPublic + 3)
            // Nothing is left beside the output (staging folder, index entries).
            let left = try FileManager.default.contentsOfDirectory(atPath: p.folder.path).filter { $0.hasPrefix(".") }
            #expect(left.isEmpty, "left beside the output: \(left)")
        }
        #expect(recordOrders[0] == recordOrders[0].sorted())
        #expect(recordOrders[1] == recordOrders[0] && recordOrders[2] == recordOrders[0])
        try Self.expectSame(folders[0], folders[1], "batches of 1 and 3")
        try Self.expectSame(folders[0], folders[2], "batches of 1 and 512")

        // The records held in the result (no onRecord): the streamed index is the document made of them all.
        let held = try p.a.publish([], policy: policy, to: p.path("out-held"), batchSize: 2)
        #expect(held.records.map(\.recordId) == recordOrders[0])
        let index = try #require(try Self.files(p.path("out-held"))[PublicationIndex.fileName])
        guard case .number(let publishedAt)? = try JSONValue.parse(index)["publishedAt"], let time = Int(publishedAt)
        else {
            Issue.record("index.json has no publishedAt")
            return
        }
        let whole = PublicationIndex.json(
            held.records, publisher: try p.a.identity(), policy: policy, publishedAt: time,
            identities: held.identities)
        #expect(String(decoding: index, as: UTF8.self) == whole.pretty() + "\n")
        try Self.expectSame(folders[0], try Self.files(p.path("out-held")), "held records")

        // Each record published on its own (named): the same presentation and annotation.
        for id in recordOrders[0] {
            let alone = p.path("alone-\(id.prefix(12))")
            let result = try p.a.publish([id], policy: policy, to: alone)
            #expect(result.count == 1 && result.records.map(\.recordId) == [id])
            let files = try Self.files(alone)
            let presentation = id + ".sd-jwt"
            #expect(files[presentation] == folders[0][presentation], "\(presentation) alone")
            let annotation = id + Annotation.fileSuffix
            #expect(
                try Self.annotationPayload(try #require(files[annotation]))
                    == Self.annotationPayload(try #require(folders[0][annotation])), "\(annotation) alone")
        }
    }

    @Test func aDryRunWritesNothingAndGivesTheSameRecords() throws {
        let (p, expectedPublic, _) = try Self.workspace()
        defer { p.cleanup() }
        let policy = try Self.policy()
        let dry = try p.a.publish([], policy: policy, to: nil, batchSize: 2)
        let written = try p.a.publish([], policy: policy, to: p.path("out"), batchSize: 5)
        #expect(dry.folder == nil && dry.records.count == expectedPublic)
        #expect(dry.records.map(\.presentation.compact) == written.records.map(\.presentation.compact))
        #expect(dry.records.map(\.report.summary) == written.records.map(\.report.summary))
        let before = try FileManager.default.contentsOfDirectory(atPath: p.folder.path).sorted()
        _ = try p.a.publish([], policy: policy, to: nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.folder.path).sorted() == before)
    }

    @Test func anOutputThatIsNotEmptyIsRefusedAndLeftAsItWas() throws {
        let (p, _, _) = try Self.workspace()
        defer { p.cleanup() }
        let out = p.path("taken")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try Data("mine\n".utf8).write(to: URL(fileURLWithPath: out).appendingPathComponent("notes.txt"))
        let error = try #require(throws: AmanatError.self) {
            try p.a.publish([], policy: try Self.policy(), to: out)
        }
        #expect(error.kind == .cannotCreateOutput)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["notes.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.folder.path).filter { $0.hasPrefix(".") }.isEmpty)
    }
}
