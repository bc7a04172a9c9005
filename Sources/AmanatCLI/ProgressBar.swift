import Foundation

/// A progress bar on standard error with a rate and a time estimate, drawn only when standard error is a terminal
/// and the work is big (never into a pipe, a file or a log).
final class ProgressBar: @unchecked Sendable {
    /// What is counted: bytes (shown as MiB/s) or items such as records (shown as records/s).
    enum Unit {
        case bytes
        case items(String)
    }

    private let label: String
    private let unit: Unit
    private let minimum: UInt64
    private var total: UInt64
    private var enabled: Bool?
    private var lastDraw = Date.distantPast
    private let start = Date()
    private let lock = NSLock()

    /// - Parameters:
    ///   - total: the amount of work, if known now (else the first ``update(_:of:)`` gives it).
    ///   - minimum: below this total nothing is drawn (default: 16 MiB of bytes, 200 items).
    init(label: String, unit: Unit = .bytes, total: UInt64 = 0, minimum: UInt64? = nil) {
        self.label = label
        self.unit = unit
        self.total = total
        switch unit {
        case .bytes: self.minimum = minimum ?? 16 << 20
        case .items: self.minimum = minimum ?? 200
        }
    }

    /// Draws `done` out of the total given at creation.
    func update(_ done: UInt64) { update(done, of: total) }

    /// Draws `done` out of `total` (callable from any thread; at most ten times a second).
    func update(_ done: UInt64, of total: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        self.total = total
        if enabled == nil { enabled = Console.stderrIsTerminal && !Console.quiet && total >= minimum }
        guard enabled == true else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || done >= total else { return }
        lastDraw = now
        FileHandle.standardError.write(
            Data(("\r" + Self.line(label, unit, done, total, now.timeIntervalSince(start))).utf8))
    }

    /// One line of the bar: label, bar, percentage, rate and the time left.
    static func line(_ label: String, _ unit: Unit, _ done: UInt64, _ total: UInt64, _ elapsed: TimeInterval) -> String
    {
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let perSecond = Double(done) / max(0.001, elapsed)
        let rate: String
        switch unit {
        case .bytes: rate = String(format: "%.0f MiB/s", perSecond / 1_048_576)
        case .items(let name): rate = String(format: "%.0f %@/s", perSecond, name)
        }
        var left = "--:--"
        if done > 0, done < total, perSecond > 0 {
            let seconds = Int((Double(total - done) / perSecond).rounded(.up))
            left =
                seconds >= 3600
                ? String(format: "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String(format: "%02d:%02d", seconds / 60, seconds % 60)
        } else if done >= total {
            left = "00:00"
        }
        return String(format: "%@ [%@] %3.0f%%  %@  %@ left", label, bar, fraction * 100, rate, left)
    }

    /// Clears the bar (once).
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard enabled == true else { return }
        enabled = false
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
