import AmanatLog
import AmanatTestSupport
import Foundation
import Testing

/// transparency-dev/merkle's RFC 6962 proof-verification vectors (vendored in `Tests/Vectors/rfc6962/`): valid
/// inclusion and consistency proofs for the RFC 6962 test tree, and for each a set of tampered variants (a bit
/// flipped, a hash added or dropped, wrong sizes and indices, swapped roots) that must be refused.
@Suite struct RFC6962VectorTests {
    static let folder = TestVectors.folder.appendingPathComponent("rfc6962")

    static func files(_ kind: String) throws -> [URL] {
        let root = folder.appendingPathComponent(kind)
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "json" }
            .sorted { $0.path < $1.path }
    }

    static func object(_ url: URL) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// Standard base64 as the vectors write it; empty or short "hashes" are kept as they are (they must fail).
    static func bytes(_ value: Any?) -> [UInt8] {
        guard let text = value as? String, let data = Data(base64Encoded: text) else { return [] }
        return Array(data)
    }

    static func hashes(_ value: Any?) -> [[UInt8]] { (value as? [String] ?? []).map { bytes($0) } }

    /// A size or index; the tampered vectors include negative ones, which become huge (and must be refused).
    static func number(_ value: Any?) -> UInt64 { UInt64(bitPattern: (value as? NSNumber)?.int64Value ?? -1) }

    @Test func inclusionVectors() throws {
        let files = try Self.files("inclusion")
        #expect(files.count == 98)
        var valid = 0
        for file in files {
            let test = try Self.object(file)
            let verified = LogTree.verifyInclusion(
                leafHash: Self.bytes(test["leafHash"]), index: Self.number(test["leafIdx"]),
                size: Self.number(test["treeSize"]), proof: Self.hashes(test["proof"]),
                rootHash: Self.bytes(test["root"]))
            let wantErr = try #require(test["wantErr"] as? Bool)
            #expect(
                verified == !wantErr,
                "\(file.lastPathComponent) in \(file.deletingLastPathComponent().lastPathComponent)")
            if verified { valid += 1 }
        }
        #expect(valid == 6)
    }

    @Test func consistencyVectors() throws {
        let files = try Self.files("consistency")
        #expect(files.count == 98)
        var valid = 0
        var deviations: [String] = []
        for file in files {
            let test = try Self.object(file)
            let verified = LogTree.verifyConsistency(
                oldSize: Self.number(test["size1"]), newSize: Self.number(test["size2"]),
                oldRoot: Self.bytes(test["root1"]), newRoot: Self.bytes(test["root2"]),
                proof: Self.hashes(test["proof"]))
            let wantErr = try #require(test["wantErr"] as? Bool)
            if verified { valid += 1 }
            if verified != !wantErr { deviations.append(file.lastPathComponent) }
        }
        // One vector accepts equal sizes with equal 12-byte "roots" ("don't care"); we refuse any root that is not
        // 32 bytes, so that case is the single, deliberate difference.
        #expect(deviations == ["sizes-are-equal-one-and-proof-is-empty.json"])
        #expect(valid == 5)
    }
}
