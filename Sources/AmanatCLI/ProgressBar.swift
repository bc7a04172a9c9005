import Foundation

/// A progress bar on standard error, drawn only when standard error is a terminal and the work is big.
final class ProgressBar {
    private let label: String
    private let minimum: UInt64
    private var total: UInt64
    private var enabled: Bool?
    private var lastDraw = Date.distantPast
    private let start = Date()

    /// - Parameter total: the amount of work, if known now (else the first ``update(_:of:)`` gives it).
    init(label: String, total: UInt64 = 0, minimum: UInt64 = 16 << 20) {
        self.label = label
        self.total = total
        self.minimum = minimum
    }

    /// Draws `done` out of the total given at creation.
    func update(_ done: UInt64) { update(done, of: total) }

    /// Draws `done` out of `total`.
    func update(_ done: UInt64, of total: UInt64) {
        self.total = total
        if enabled == nil { enabled = Console.stderrIsTerminal && total >= minimum }
        guard enabled == true else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || done >= total else { return }
        lastDraw = now
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let rate = Double(done) / max(0.001, now.timeIntervalSince(start)) / 1_048_576
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(format: "\r%@ [%@] %3.0f%%  %.0f MiB/s", label, bar, fraction * 100, rate)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the bar (once).
    func finish() {
        guard enabled == true else { return }
        enabled = false
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
