import AmanatTestSupport
import Foundation
import Testing

@Suite("check: the stored view against the versions", .requires(.python3))
struct CheckCommandTests {
    @Test func checkAgreesAfterSyncNamesADamagedRowAndRebuildRepairsIt() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        // Given B, which imported A's record and holds a conflict (the stored view was updated by each import)
        let id = try SyncCommandTests().concurrentEdit(p)

        // When checking, the stored view agrees with every record derived again, and status reports the same hash
        let checked = try p.cli.run(["check", "--json"], in: p.b)
        #expect(checked.status == 0, "\(checked.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [String: Any])
        #expect(report["storedStateHash"] as? String == report["derivedStateHash"] as? String)
        #expect(report["countsAgree"] as? Bool == true)
        #expect(report["integrity"] as? Bool == true)
        let status = try #require(
            try JSONSerialization.jsonObject(with: Data(try p.cli.run(["status", "--json"], in: p.b).stdout.utf8))
                as? [String: Any])
        #expect(status["stateHash"] as? String == report["storedStateHash"] as? String)
        #expect(status["conflicts"] as? Int == 1)

        // When an attacker with the file flips a byte in the record's sealed summary
        let python = try ExternalTool.python3.require()
        let flip = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            (blob,) = db.execute("SELECT summary FROM recordState WHERE recordId = ?", (sys.argv[2],)).fetchone()
            blob = bytearray(blob); blob[len(blob) // 2] ^= 1
            db.execute("UPDATE recordState SET summary = ? WHERE recordId = ?", (bytes(blob), sys.argv[2]))
            db.commit()
            """
        let flipped = try Subprocess.run(python, ["-c", flip, p.b + "/.amanat/store.sqlite", id])
        #expect(flipped.status == 0, "\(flipped.stderrText)")

        // Then list and check refuse, naming the record (exit 1), and change nothing
        let listed = try p.cli.run(["list"], in: p.b)
        #expect(listed.status == 1)
        #expect(listed.stderr.contains(id))
        #expect(try p.cli.run(["check"], in: p.b).status == 1)

        // And check --rebuild derives the view again from the versions: everything agrees again
        let rebuilt = try p.cli.run(["check", "--rebuild"], in: p.b)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout.contains("derived again"))
        #expect(try p.cli.run(["list"], in: p.b).status == 0)
        #expect(
            try p.cli.run(["status", "--json"], in: p.b).stdout.contains(report["storedStateHash"] as? String ?? "?"))
    }
}
