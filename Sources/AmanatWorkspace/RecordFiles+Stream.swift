import AmanatRecords
import Foundation

extension RecordFiles {
    /// A record read from a record file, with canonical member order, and where it came from.
    public struct Entry: Sendable {
        public var record: JSONValue
        public var origin: Origin
    }

    /// Reads a record file a batch at a time, with the validation, warnings and origins of
    /// ``RecordFiles/loadWithOrigins(_:)``. A CSV file is streamed (memory holds a piece of the file and one batch,
    /// whatever its size; no size limit); a JSON file is read whole (at most 64 MiB).
    ///
    /// A problem in any row throws once the rest of the file has been checked (``AmanatRecords/CSVRecordStream``):
    /// the caller keeps everything from earlier batches uncommitted until the reader returns nil.
    public final class Reader {
        /// The file as the caller named it.
        public let path: String
        /// Identifier checks that failed (``RecordValidation/checksumProblems(_:)``) in the records returned so far.
        public private(set) var warnings: [Warning] = []
        /// How many bytes of the file have been read so far (all of it, for JSON, once the first batch is out).
        public private(set) var bytesRead: UInt64 = 0
        /// The file's size.
        public let size: UInt64

        private var csv: CSVRecordStream?
        private var json: [Entry]?
        private var jsonOffset = 0
        private var returned = 0

        /// Opens `path` (the records are read by ``next(maximumCount:)``).
        /// - Throws: ``AmanatError`` `inputMissing` for a missing file, `ioError` when it cannot be read.
        public init(_ path: String) throws {
            self.path = path
            let input = try InputFile(path, what: "record file")
            size = input.size
            guard RecordValidation.isCSV(path) else { return }
            let schema: RecordSchema
            do { schema = try RecordSchema.bundled() } catch {
                throw AmanatError(
                    .ioError, "the record schema bundled with amanat cannot be loaded (\(error)); reinstall.")
            }
            // The limits of a whole-file read, but as many records as the file holds: memory no longer grows with it.
            let limits = RecordImport.Limits(maximumFileBytes: .max, maximumRecords: .max - 1)
            csv = try CSVRecordStream(file: path, schema: schema, limits: limits) { [weak self] count in
                var bytes = [UInt8](repeating: 0, count: count)
                let n = try bytes.withUnsafeMutableBytes { try input.read($0) }
                bytes.removeLast(count - n)
                self?.bytesRead += UInt64(n)
                return bytes
            }
        }

        /// The next records of the file (at most `maximumCount`), or nil after the last.
        /// - Throws: ``AmanatError`` `malformedInput` naming the file, the rows and the reasons.
        public func next(maximumCount: Int) throws -> [Entry]? {
            if csv != nil { return try nextCSV(maximumCount) }
            if json == nil {
                let (loaded, origins) = try RecordFiles.loadWithOrigins(path)
                json = zip(loaded.records, origins).map { Entry(record: $0, origin: $1) }
                warnings = loaded.warnings
                bytesRead = size
            }
            guard let json, jsonOffset < json.count else {
                self.json = []
                return nil
            }
            let end = min(json.count, jsonOffset + max(1, maximumCount))
            defer { jsonOffset = end }
            return Array(json[jsonOffset..<end])
        }

        private func nextCSV(_ maximumCount: Int) throws -> [Entry]? {
            let items: [CSVRecordStream.Item]?
            do { items = try csv?.next(maximumCount: maximumCount) } catch let error as RecordImportError {
                throw AmanatError(
                    .malformedInput, "\(error)\nNothing was added. Fix the file and run the command again.")
            }
            guard let items else { return nil }
            var entries: [Entry] = []
            entries.reserveCapacity(items.count)
            for item in items {
                let record = item.record.sortedKeys()
                returned += 1
                for (pointer, reason) in Self.hasChecksumProblem(record)
                    ? RecordValidation.checksumProblems(record) : []
                {
                    warnings.append(
                        Warning(file: path, recordIndex: nil, csvRecord: returned, pointer: pointer, reason: reason))
                }
                entries.append(Entry(record: record, origin: Origin(file: path, row: item.row)))
            }
            return entries
        }

        /// Whether ``RecordValidation/checksumProblems(_:)`` finds anything: the same test without building a JSON
        /// Pointer for every member (most records have no problem).
        static func hasChecksumProblem(_ value: JSONValue) -> Bool {
            switch value {
            case .object(let members):
                return members.contains { key, item in
                    if case .string(let text) = item { return RecordValidation.problem(member: key, text) != nil }
                    return hasChecksumProblem(item)
                }
            case .array(let items):
                return items.contains { hasChecksumProblem($0) }
            default:
                return false
            }
        }
    }
}
