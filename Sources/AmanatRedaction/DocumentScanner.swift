import AmanatCrypto

/// The kinds of file `amanat scan` reads.
public enum DocumentFormat: String, Sendable {
    /// Plain UTF-8 text: scanned as it is.
    case text
    /// A JSON document: scanned through a view with string escapes (`\n`, `\uXXXX`, …) decoded, findings mapped
    /// back to the bytes of the original file.
    case json
    /// A compact SD-JWT (`<jwt>~<disclosure>~…~`): the JWT payload and every disclosure are base64url-decoded and
    /// scanned as JSON; a finding's range is the byte range of the segment it came from.
    case sdJWT = "sd-jwt"
}

/// Why a document could not be scanned. Carries positions, never contents.
public enum DocumentScanError: Error, Equatable, Sendable {
    /// A segment of an SD-JWT (0 = the issuer JWT, 1… = disclosures) is not valid base64url or not JSON.
    case invalidSDJWTSegment(index: Int)
}

/// Scans whole documents (text, JSON records, SD-JWTs) with a ``Detector``.
public struct DocumentScanner: Sendable {
    /// The detector used.
    public var detector: Detector

    /// Creates a scanner.
    public init(detector: Detector = Detector()) {
        self.detector = detector
    }

    /// Guesses the format from the file name extension and the first bytes: `.sd-jwt`/`.sdjwt` or content that is
    /// one line of base64url, dots and `~` starting with `eyJ` is an SD-JWT; `.json` or content starting with `{` or
    /// `[` is JSON; anything else is text.
    public static func detectFormat(_ buffer: UnsafeRawBufferPointer, pathExtension: String) -> DocumentFormat {
        let ext = pathExtension.lowercased()
        if ext == "sd-jwt" || ext == "sdjwt" { return .sdJWT }
        if ext == "json" { return .json }
        let bytes = buffer.bindMemory(to: UInt8.self)
        var first = 0
        while first < bytes.count,
            bytes[first] == 0x20 || bytes[first] == 0x0A || bytes[first] == 0x0D || bytes[first] == 0x09
        {
            first += 1
        }
        guard first < bytes.count else { return .text }
        if bytes[first] == 0x7B || bytes[first] == 0x5B { return .json }
        if bytes.count - first > 3, bytes[first] == 0x65, bytes[first + 1] == 0x79, bytes[first + 2] == 0x4A {
            var tilde = false
            for k in first..<bytes.count {
                let b = bytes[k]
                if b == 0x7E {
                    tilde = true
                } else if !(isBase64URL(b) || b == 0x2E || b == 0x0A || b == 0x0D) {
                    return .text
                }
            }
            if tilde { return .sdJWT }
        }
        return .text
    }

    static func isBase64URL(_ b: UInt8) -> Bool {
        (b | 0x20) &- 0x61 < 26 || b &- 0x30 < 10 || b == 0x2D || b == 0x5F
    }

    /// Scans a document of the given format.
    /// - Throws: ``DocumentScanError`` for an SD-JWT whose segments do not decode.
    public func scan(_ buffer: UnsafeRawBufferPointer, format: DocumentFormat) throws -> [Finding] {
        switch format {
        case .text: return detector.scan(buffer)
        case .json: return scanJSON(buffer)
        case .sdJWT: return try scanSDJWT(buffer)
        }
    }

    /// Scans a document of the given format; findings in compact form (see ``FindingTable``).
    /// - Throws: ``DocumentScanError`` for an SD-JWT whose segments do not decode.
    public func scanTable(_ buffer: UnsafeRawBufferPointer, format: DocumentFormat) throws -> FindingTable {
        switch format {
        case .text: return detector.scanTable(buffer)
        case .json, .sdJWT: return FindingTable(try scan(buffer, format: format))
        }
    }

    // MARK: JSON

    /// One decoded escape: `out` bytes in the decoded view came from `original` bytes of the input.
    struct EscapeUnit {
        var outStart: Int
        var outEnd: Int
        var originalStart: Int
        var originalEnd: Int
    }

    /// Scans a JSON document with string escapes decoded; ranges refer to the original bytes (a finding that
    /// starts or ends inside an escape sequence covers the whole sequence).
    public func scanJSON(_ buffer: UnsafeRawBufferPointer) -> [Finding] {
        let bytes = buffer.bindMemory(to: UInt8.self)
        guard bytes.contains(0x5C) else { return detector.scan(buffer) }
        let (decoded, units) = DocumentScanner.unescape(bytes)
        let findings = decoded.withUnsafeBytes { detector.scan($0) }
        return findings.map { finding in
            var mapped = finding
            mapped.range =
                DocumentScanner.mapStart(
                    finding.range.lowerBound, units)..<DocumentScanner.mapEnd(finding.range.upperBound, units)
            return mapped
        }
    }

    static func unitIndex(_ offset: Int, _ units: [EscapeUnit]) -> Int? {
        var low = 0
        var high = units.count
        while low < high {
            let mid = (low + high) / 2
            if units[mid].outStart <= offset { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    static func mapStart(_ offset: Int, _ units: [EscapeUnit]) -> Int {
        guard let index = unitIndex(offset, units) else { return offset }
        let unit = units[index]
        if offset < unit.outEnd { return unit.originalStart }
        return unit.originalEnd + (offset - unit.outEnd)
    }

    static func mapEnd(_ end: Int, _ units: [EscapeUnit]) -> Int {
        guard end > 0 else { return 0 }
        let last = end - 1
        guard let index = unitIndex(last, units) else { return end }
        let unit = units[index]
        if last < unit.outEnd { return unit.originalEnd }
        return unit.originalEnd + (end - unit.outEnd)
    }

    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return nil
        }
    }

    static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> Int? {
        guard at + 4 <= bytes.count else { return nil }
        var value = 0
        for k in 0..<4 {
            guard let h = hexValue(bytes[at + k]) else { return nil }
            value = value * 16 + h
        }
        return value
    }

    static func appendUTF8(_ scalar: Int, to out: inout [UInt8]) {
        if let u = Unicode.Scalar(scalar) {
            out.append(contentsOf: Array(String(Character(u)).utf8))
        } else {
            out.append(contentsOf: [0xEF, 0xBF, 0xBD])
        }
    }

    /// Decodes the escapes inside JSON strings (malformed escapes are copied as they are).
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>) -> ([UInt8], [EscapeUnit]) {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var units: [EscapeUnit] = []
        var inString = false
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x22 {
                inString.toggle()
                out.append(b)
                i += 1
                continue
            }
            guard inString, b == 0x5C, i + 1 < bytes.count else {
                out.append(b)
                i += 1
                continue
            }
            let outStart = out.count
            var length = 2
            switch bytes[i + 1] {
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x22, 0x5C, 0x2F: out.append(bytes[i + 1])
            case 0x75:
                guard let high = hex4(bytes, i + 2) else {
                    out.append(b)
                    i += 1
                    continue
                }
                length = 6
                if high >= 0xD800 && high < 0xDC00, i + 11 < bytes.count, bytes[i + 6] == 0x5C, bytes[i + 7] == 0x75,
                    let low = hex4(bytes, i + 8), low >= 0xDC00 && low < 0xE000
                {
                    appendUTF8(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), to: &out)
                    length = 12
                } else {
                    appendUTF8(high, to: &out)
                }
            default:
                out.append(b)
                i += 1
                continue
            }
            units.append(EscapeUnit(outStart: outStart, outEnd: out.count, originalStart: i, originalEnd: i + length))
            i += length
        }
        return (out, units)
    }

    // MARK: SD-JWT

    /// Scans a compact SD-JWT: the issuer JWT's payload and every disclosure (base64url-decoded JSON). A finding's
    /// range is the byte range of its segment in the file (the payload part of the JWT, or the whole disclosure).
    /// A trailing key-binding JWT is not scanned.
    /// - Throws: ``DocumentScanError/invalidSDJWTSegment(index:)`` when a segment does not decode to JSON.
    public func scanSDJWT(_ buffer: UnsafeRawBufferPointer) throws -> [Finding] {
        let bytes = buffer.bindMemory(to: UInt8.self)
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D || bytes[end - 1] == 0x20 { end -= 1 }
        var start = 0
        while start < end, bytes[start] == 0x0A || bytes[start] == 0x0D || bytes[start] == 0x20 { start += 1 }
        var segments: [Range<Int>] = []
        var segmentStart = start
        for k in start..<end where bytes[k] == 0x7E {
            segments.append(segmentStart..<k)
            segmentStart = k + 1
        }
        let trailing = segmentStart..<end  // key-binding JWT or empty
        guard let jwt = segments.first ?? (trailing.isEmpty ? nil : trailing) else {
            throw DocumentScanError.invalidSDJWTSegment(index: 0)
        }
        var findings: [Finding] = []
        // The issuer JWT: header.payload.signature
        let dots = jwt.filter { bytes[$0] == 0x2E }
        guard dots.count == 2 else { throw DocumentScanError.invalidSDJWTSegment(index: 0) }
        let payloadRange = (dots[0] + 1)..<dots[1]
        findings += try scanEncodedJSON(bytes, payloadRange, index: 0)
        for (index, segment) in segments.enumerated().dropFirst() where !segment.isEmpty {
            findings += try scanEncodedJSON(bytes, segment, index: index)
        }
        return findings.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    func scanEncodedJSON(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, index: Int) throws -> [Finding] {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let decoded = Base64URL.decode(text) ?? Base64.decodeCanonical(text, urlSafe: true) else {
            throw DocumentScanError.invalidSDJWTSegment(index: index)
        }
        guard let first = decoded.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            first == 0x5B || first == 0x7B
        else {
            throw DocumentScanError.invalidSDJWTSegment(index: index)
        }
        return decoded.withUnsafeBytes { scanJSON($0) }.map { finding in
            var mapped = finding
            mapped.range = range
            return mapped
        }
    }
}
