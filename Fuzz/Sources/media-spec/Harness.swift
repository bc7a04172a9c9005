import AmanatMedia
import AmanatRecords
import FuzzSupport

// Media redaction specs (`MediaRedactionSpec.parse`) and timed transcripts (`TimedTranscript.parse`, WebVTT and
// SRT). The first byte picks the parser: 0 spec, 1 WebVTT, 2 SRT, anything else: the transcript's format is
// detected. Properties: a parsed spec written with `jsonBytes()` parses back to the same spec; a transcript's cues
// are in time order with end > start, its byte ranges tile its text, and every identifier interval lies within the
// cue times.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let selector = input.first else { return 0 }
    let bytes = Array(input.dropFirst())
    switch selector {
    case 0:
        do {
            let spec = try MediaRedactionSpec.parse(bytes, name: "fuzz.json")
            let again = try MediaRedactionSpec.parse(spec.jsonBytes(), name: "again.json")
            if again != spec { fuzzFailure("media-spec", "jsonBytes() does not parse back to the same spec") }
        } catch {
            _ = error.description
        }
    default:
        let format: TimedTranscript.Format? = selector == 1 ? .webVTT : selector == 2 ? .srt : nil
        do {
            let transcript = try TimedTranscript.parse(bytes, file: "fuzz.vtt", format: format)
            var previous = -1.0
            for cue in transcript.cues {
                if !(cue.end > cue.start) || cue.start < previous {
                    fuzzFailure("media-spec", "a cue out of order or ending before it starts")
                }
                previous = cue.start
            }
            let ranges = transcript.cueByteRanges
            let textBytes = transcript.text.utf8.count
            if let last = ranges.last, last.upperBound != textBytes {
                fuzzFailure("media-spec", "cue byte ranges do not end at the end of the text")
            }
            let first = transcript.cues.first?.start ?? 0
            let end = transcript.cues.map(\.end).max() ?? 0
            for found in transcript.identifierIntervals()
            where found.start < first || found.end > end || found.end <= found.start {
                fuzzFailure("media-spec", "an identifier interval outside the cues")
            }
        } catch {
            _ = error.description
        }
    }
    return 0
}
