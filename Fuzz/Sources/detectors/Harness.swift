import AmanatRedaction
import Foundation
import FuzzSupport

private let sequential = Detector(parallelThreshold: Int.max, threadCount: 1)
/// Splits anything of 1 byte or more into blocks of at least 4 KiB (Detector.overlap × 4) on two threads.
private let parallel = Detector(parallelThreshold: 1, threadCount: 2)
private let scanner = DocumentScanner(detector: sequential)
/// `AMANAT_FUZZ_SKIP=detectors-parallel` turns off the parallel-versus-sequential comparison (a known finding:
/// Tests/Vectors/fuzz-regressions/detectors/README.md), so that a run can look for other problems.
private let compareParallel = !(ProcessInfo.processInfo.environment["AMANAT_FUZZ_SKIP"] ?? "")
    .split(separator: ",").contains("detectors-parallel")

private func check(_ findings: [Finding], count: Int, _ what: String) {
    var previousEnd = 0
    for finding in findings {
        guard finding.range.lowerBound >= previousEnd, finding.range.upperBound <= count, !finding.range.isEmpty
        else { fuzzFailure("detectors", "\(what): a finding out of bounds, empty, unsorted or overlapping") }
        previousEnd = finding.range.upperBound
        guard !finding.value.isEmpty else { fuzzFailure("detectors", "\(what): a finding with an empty value") }
        // Precision: a number reported as valid passes its checks.
        if finding.confidence == .valid {
            switch finding.kind {
            case .cnResidentID:
                guard ChineseResidentID.isValid(finding.value) else {
                    fuzzFailure("detectors", "\(what): an invalid Chinese resident ID reported as valid")
                }
            case .kzIIN:
                guard KazakhIIN.isValid(finding.value) else {
                    fuzzFailure("detectors", "\(what): an invalid IIN reported as valid")
                }
            default:
                break
            }
        }
    }
}

/// Where two lists of findings first differ (descriptions carry no values).
private func difference(_ a: [Finding], _ b: [Finding]) -> String {
    let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
    let show = { (list: [Finding]) in i < list.count ? "\(list[i]) value \(list[i].value.utf8.count) bytes" : "none" }
    return "\(a.count) vs \(b.count) findings; first difference at #\(i): \(show(a)) vs \(show(b))"
}

// The identifier detectors on arbitrary bytes (`amanat scan`, publish's free-text scan): the sequential scan, the
// parallel block scan of the input repeated past several block boundaries (which must find exactly what the
// sequential scan finds), the streaming variant, and DocumentScanner's text, JSON and SD-JWT views. Findings must be
// sorted, disjoint, inside the input, and never report a failing check digit as valid.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    bytes.withUnsafeBytes { buffer in
        let findings = sequential.scanSequential(buffer)
        check(findings, count: size, "scanSequential")
        guard sequential.scan(buffer) == findings else { fuzzFailure("detectors", "scan differs from scanSequential") }
        for format in [DocumentFormat.text, .json, .sdJWT] {
            if let found = try? scanner.scan(buffer, format: format) { check(found, count: size, format.rawValue) }
        }
        _ = DocumentScanner.detectFormat(buffer, pathExtension: "txt")
        _ = Normalization.fold(bytes)
    }
    guard size > 0, compareParallel else { return 0 }
    var tiled: [UInt8] = []
    while tiled.count < 9000 { tiled += bytes }
    tiled.withUnsafeBytes { buffer in
        let reference = sequential.scanSequential(buffer)
        let blocks = parallel.scan(buffer)
        guard blocks == reference else {
            fuzzFailure(
                "detectors", "the parallel scan differs from the sequential scan: \(difference(blocks, reference))")
        }
        var streamed: [Finding] = []
        do {
            try parallel.scanTable(buffer) { block, _ in streamed += (0..<block.count).map(block.finding) }
        } catch {
            fuzzFailure("detectors", "scanTable(streaming:) threw \(error)")
        }
        guard streamed == reference else {
            fuzzFailure(
                "detectors", "the streamed scan differs from the sequential: \(difference(streamed, reference))")
        }
    }
    return 0
}
