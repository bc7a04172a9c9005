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
        // One serial queue for both signals: a second signal (Ctrl-C pressed twice, or SIGTERM after SIGINT, as
        // `perf` and `timeout` send) waits for the first handler, which exits when its removal is done. On separate
        // threads the second handler found nothing left to remove and exited while the first was still removing,
        // leaving the rest of a staging folder behind.
        let queue = DispatchQueue(label: "amanat.interruption", qos: .userInitiated)
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
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
