import AmanatWorkspace
import Dispatch
import Foundation

/// Ctrl-C (SIGINT) and SIGTERM: remove every staging folder and temporary file the command has open (decrypted
/// plaintext among them, see ``Leftovers``), restore the terminal, say so, and exit with 128 + the signal number.
enum Interruption {
    /// Kept alive for the life of the process.
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    /// The terminal settings to restore if a signal arrives while a passphrase prompt has echo turned off.
    nonisolated(unsafe) static var savedTerminal: termios?

    static func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global(qos: .userInitiated))
            source.setEventHandler {
                Leftovers.removeAll()
                if var saved = savedTerminal { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
                let message = "\namanat: interrupted; nothing was left behind.\n"
                _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
                _exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
