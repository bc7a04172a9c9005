import Foundation
import Testing
@testable import AmanatRecords
@Test func zzTmpDump() throws {
    let bytes = try RecordSpecFiles.bytes(RecordSpecFiles.examples.appendingPathComponent("records.csv"))
    let records = try RecordImport.parseCSV(bytes, file: "records.csv")
    try JSONValue.array(records).serialized().write(toFile: "/tmp/swift_rows.json", atomically: true, encoding: .utf8)
}
