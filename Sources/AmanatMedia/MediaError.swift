import Foundation

/// What went wrong with a media file, a redaction spec or an outside media tool.
///
/// Cases carry file names, positions and the tool's own (short) diagnostics, never media content.
public enum MediaError: Error, Equatable, Sendable {
    /// `tool` (ffmpeg, ffprobe) is not installed or not on `PATH`.
    case toolMissing(tool: String)
    /// The tool is installed but too old or unrecognised (`found` is its first version line).
    case toolUnsupported(tool: String, found: String)
    /// The tool ran longer than allowed and was stopped.
    case toolTimedOut(tool: String, seconds: Double)
    /// The tool failed; `diagnostics` is the tail of its stderr.
    case toolFailed(tool: String, status: Int32, diagnostics: String)
    /// The media file is missing.
    case fileMissing(path: String)
    /// The media file could not be decoded (corrupt, truncated, not media); `reason` says why.
    case unreadableMedia(path: String, reason: String)
    /// The container or codec is not one Amanat makes derivatives of.
    case unsupportedContainer(path: String, format: String)
    /// The output name's extension is not one derivatives are written as.
    case unsupportedOutput(path: String, extension: String)
    /// The redaction spec is not valid: `reason` names the field (and the line when the parser knows it).
    case invalidSpec(path: String, reason: String)
    /// The spec does not fit the media (a rectangle outside the frame, an interval past the end).
    case specDoesNotFit(path: String, reason: String)
    /// The output could not be written.
    case cannotWrite(path: String, reason: String)
}

extension MediaError: CustomStringConvertible {
    /// A sentence people read: what happened, which file, what to do.
    public var description: String {
        switch self {
        case .toolMissing(let tool):
            return "\(tool) is not installed (or not on PATH). Install it (Debian: apt-get install ffmpeg) and retry."
        case .toolUnsupported(let tool, let found):
            return "\(tool) reports '\(found)'; Amanat needs ffmpeg 5.1 or later. Install Debian's ffmpeg package."
        case .toolTimedOut(let tool, let seconds):
            return "\(tool) did not finish within \(Int(seconds)) s and was stopped."
        case .toolFailed(let tool, let status, let diagnostics):
            return "\(tool) failed (status \(status)): \(diagnostics)"
        case .fileMissing(let path):
            return "\(path) does not exist. Check the path and try again."
        case .unreadableMedia(let path, let reason):
            return "\(path) is not a readable media file (\(reason)). It may be corrupt or truncated; use a good copy."
        case .unsupportedContainer(let path, let format):
            return
                "\(path) is in a format Amanat does not redact (\(format)). Supported: MP4/MOV, Matroska/WebM, "
                + "AVI, M4A, MP3, WAV, Ogg, FLAC, JPEG, PNG."
        case .unsupportedOutput(let path, let ext):
            return
                "\(path): derivatives are written as .mp4 (video), .m4a or .wav (audio), .jpg or .png (photos), "
                + "not .\(ext). Choose one of these names."
        case .invalidSpec(let path, let reason):
            return "\(path) is not a valid media redaction spec: \(reason). See Specs/media-redaction.md."
        case .specDoesNotFit(let path, let reason):
            return "\(path) does not fit the media: \(reason). Fix the spec."
        case .cannotWrite(let path, let reason):
            return "cannot write \(path) (\(reason))."
        }
    }

    /// True for a missing or unusable outside tool (exit 69 on the command line).
    public var isToolUnavailable: Bool {
        switch self {
        case .toolMissing, .toolUnsupported: return true
        default: return false
        }
    }
}
