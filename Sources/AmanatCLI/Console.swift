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
        }
    }
}

/// Writes to standard output and standard error.
enum Console {
    /// Writes a line to standard output; on a terminal, nothing in it can act as a control sequence.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((safe(text, terminal: stdoutIsTerminal) + "\n").utf8))
    }

    /// Writes a line to standard error; on a terminal, nothing in it can act as a control sequence.
    static func err(_ text: String) {
        FileHandle.standardError.write(Data((safe(text, terminal: stderrIsTerminal) + "\n").utf8))
    }

    /// Text bound for a terminal passes through ``UntrustedText/terminalSafe(_:)``; text bound for a file or a
    /// pipe is left exactly as it is (scripts read it).
    static func safe(_ text: String, terminal: Bool) -> String {
        terminal ? UntrustedText.terminalSafe(text) : text
    }

    static let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1

    /// Prints one JSON document (sorted keys, pretty) on stdout.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// Whether standard error is a terminal (progress bars are drawn only then).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
