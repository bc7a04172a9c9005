import AmanatCrypto
import AmanatRecords
import AmanatWorkspace
import Foundation

/// Where the passphrase protecting the private keys comes from: `--passphrase-file`, `AMANAT_PASSPHRASE`, or a
/// terminal prompt (asked twice when a new one is chosen).
enum PassphraseSource {
    static let environmentVariable = "AMANAT_PASSPHRASE"
    static let minimumLength = 8

    /// Whether the passphrase will come from a terminal prompt (neither a file nor the environment).
    static var isPrompt: Bool {
        ProcessInfo.processInfo.environment[environmentVariable] == nil && isatty(STDIN_FILENO) == 1
    }

    /// Where ``read(file:confirm:)`` will take the passphrase from, as messages name it.
    static func origin(file: String?) -> String {
        if let file { return "the passphrase file \(UntrustedText.printable(file))" }
        if ProcessInfo.processInfo.environment[environmentVariable] != nil { return environmentVariable }
        return "the prompt"
    }

    /// Reads the passphrase. With `confirm` (on `init`) a terminal prompt asks twice.
    static func read(file: String?, confirm: Bool) throws -> SecretBytes {
        if let file {
            guard var data = FileManager.default.contents(atPath: file) else {
                throw AmanatError(
                    .inputMissing, "cannot read the passphrase file \(file): it does not exist or is unreadable.")
            }
            defer { wipe(&data) }
            // One line: strip a single trailing newline (and CR), nothing else. Copied straight from the file's
            // bytes into the secret, with no intermediate array.
            let secret = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> SecretBytes in
                var end = bytes.count
                if end > 0 && bytes[end - 1] == 0x0A { end -= 1 }
                if end > 0 && bytes[end - 1] == 0x0D { end -= 1 }
                return SecretBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
            }
            return try validated(secret, origin: "the passphrase file \(file)", new: confirm)
        }
        if let value = ProcessInfo.processInfo.environment[environmentVariable] {
            return try validated(SecretBytes(Array(value.utf8)), origin: environmentVariable, new: confirm)
        }
        guard isatty(STDIN_FILENO) == 1 else {
            // Unlocking without a passphrase is refused like a wrong one (exit 1); choosing one is a usage error.
            throw AmanatError(
                confirm ? .invalidRequest : .verificationFailed,
                "a passphrase is needed to unlock the organization's keys, but there is no terminal to ask it on. "
                    + "Set \(environmentVariable) or pass --passphrase-file FILE.")
        }
        let first = try prompt(confirm ? "New passphrase for the organization's keys: " : "Passphrase: ")
        if confirm {
            let second = try prompt("Repeat the passphrase: ")
            guard first == second else {
                throw AmanatError(
                    .invalidRequest, "the two passphrases differ; nothing was created. Run the command again.")
            }
        }
        return try validated(first, origin: "the passphrase", new: confirm)
    }

    private static func validated(_ secret: SecretBytes, origin: String, new: Bool) throws -> SecretBytes {
        if secret.count == 0 {
            throw AmanatError(.invalidRequest, "\(origin) is empty; the keys need a passphrase.")
        }
        if new && secret.count < minimumLength {
            throw AmanatError(
                .invalidRequest, "\(origin) is shorter than \(minimumLength) characters; choose a longer passphrase.")
        }
        return secret
    }

    /// Reads one line from the terminal with echo turned off.
    private static func prompt(_ text: String) throws -> SecretBytes {
        // Echo goes off before the prompt appears: a line typed as soon as the prompt shows is never echoed, and is
        // not discarded by the flush that turning echo off does.
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            Interruption.savedTerminal = saved
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        FileHandle.standardError.write(Data(text.utf8))
        defer {
            if haveTerminal {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
                Interruption.savedTerminal = nil
            }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        // One fixed buffer, filled in place: a growing array would leave an unwiped copy at every reallocation.
        // Room for 4096 bytes and the one byte that shows the line is longer.
        var line = SecretBytes(zeroes: 4097)
        let length = try line.withUnsafeMutableBytes { (buffer) throws -> Int in
            var count = 0
            while Foundation.read(STDIN_FILENO, buffer.baseAddress! + count, 1) == 1 {
                if buffer[count] == 0x0A {
                    buffer[count] = 0
                    break
                }
                count += 1
                if count > 4096 { throw AmanatError(.invalidRequest, "the passphrase is longer than 4096 bytes.") }
            }
            if count > 0 && buffer[count - 1] == 0x0D { count -= 1 }
            return count
        }
        return line.withUnsafeBytes { SecretBytes(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }
}
