import AmanatRecords
import AmanatWorkspace
import Foundation

/// Exit codes of the `amanat` command (README, "Exit codes"; the numbers follow BSD `sysexits.h` where one fits).
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    /// Verification failed: bad signature, untrusted signer, tampering, wrong key or passphrase.
    case verificationFailed = 1
    /// Unresolved conflicts block the operation.
    case conflicts = 2
    /// The command was used wrongly.
    case usage = 64
    /// An input file is malformed.
    case malformedInput = 65
    /// An input file is missing.
    case inputMissing = 66
    /// An outside tool the command needs (ffmpeg, ffprobe) is missing or too old.
    case unavailable = 69
    /// An output could not be created.
    case cannotCreateOutput = 73
    /// A read or write failed.
    case ioError = 74
}

extension ExitStatus {
    /// The one mapping from the application's errors to exit codes.
    init(_ kind: AmanatError.Kind) {
        switch kind {
        case .verificationFailed: self = .verificationFailed
        case .conflicts: self = .conflicts
        case .invalidRequest: self = .usage
        case .malformedInput: self = .malformedInput
        case .inputMissing: self = .inputMissing
        case .cannotCreateOutput: self = .cannotCreateOutput
        case .ioError: self = .ioError
        case .toolUnavailable: self = .unavailable
        }
    }
}

/// Writes to standard output and standard error. Every line passes through ``AmanatRecords/UntrustedText`` on its
/// way out, to a terminal, a pipe or a file alike (output piped into `less -R`, `tee` or a log is read on a terminal
/// later): names and other untrusted values inside a message are escaped with
/// ``AmanatRecords/UntrustedText/printable(_:)`` where the message is built, so that they cannot start a line of
/// their own, and ``AmanatRecords/UntrustedText/terminalSafe(_:)`` is the last line of defence for the whole
/// message. JSON goes through ``AmanatRecords/UntrustedText/jsonSafe(_:)``: still valid, the same values.
enum Console {
    /// Writes a line to standard output; nothing in it can act as a control sequence.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((UntrustedText.terminalSafe(text) + "\n").utf8))
    }

    /// Writes text that ends in its own line break (a signed note, a proof) to standard output unchanged but for
    /// control characters, which are escaped.
    static func outText(_ text: String) {
        FileHandle.standardOutput.write(Data(UntrustedText.terminalSafe(text).utf8))
    }

    /// Set by `-q/--quiet`: human status lines (``status(_:)``) are not written. Errors and warnings still are.
    nonisolated(unsafe) static var quiet = false

    /// Writes a human status line ("Added 3 records…", "Sealed for berlin…") to standard error, unless `--quiet`.
    /// Standard output carries only what a command produces (ids, listings, JSON, bundle bytes), so it can be piped.
    static func status(_ text: String) {
        guard !quiet else { return }
        err(text)
    }

    /// Writes a line to standard error; nothing in it can act as a control sequence.
    static func err(_ text: String) {
        FileHandle.standardError.write(Data((UntrustedText.terminalSafe(text) + "\n").utf8))
    }

    /// Writes JSON text (a document the program serialized) and a newline to standard output, every unsafe
    /// character inside its strings written as a `\uXXXX` escape.
    static func jsonText(_ text: String) {
        FileHandle.standardOutput.write(Data((UntrustedText.jsonSafe(text) + "\n").utf8))
    }

    /// Prints one JSON document (sorted keys, pretty) on stdout.
    static func json<T: Encodable>(_ value: T) throws {
        jsonText(String(decoding: try jsonEncoder().encode(value), as: UTF8.self))
    }

    /// The encoder of ``json(_:)``: sorted keys, pretty, slashes as they are.
    static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    /// Whether standard error is a terminal (progress bars are drawn only then).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
