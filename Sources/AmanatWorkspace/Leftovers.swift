import Foundation

/// Staging folders and temporary files that hold decrypted or half-written output while a command runs.
///
/// Each is registered here before it is created and unregistered when it is committed or removed. A front end
/// calls ``removeAll()`` when it is interrupted (SIGINT, SIGTERM), and ``sweep(workspace:)`` at the start of a
/// command removes what a killed process (SIGKILL, power loss) left behind: every registration is also written to a
/// journal in the workspace, `.amanat/leftovers`, with the process id, so a later run can tell a dead command's
/// staging folder from a running one's.
public enum Leftovers {
    /// The journal of the workspace in use (set by ``Workspace``); nil before a workspace is known.
    private nonisolated(unsafe) static var journal: URL?
    private nonisolated(unsafe) static var live: [Int: String] = [:]
    private nonisolated(unsafe) static var nextToken = 0
    private static let lock = NSLock()

    /// The name of the journal inside `.amanat/`.
    static let journalName = "leftovers"

    /// Whether a path's last component is one of the names Amanat gives its staging folders and temporary files
    /// (`.<name>.amanat-partial-…`, `.<name>.partial-…`, `.incoming-…`). Nothing else is ever removed by a sweep, so
    /// an edited journal cannot make Amanat delete a user's files.
    static func isStagingName(_ name: String) -> Bool {
        guard name.hasPrefix(".") else { return false }
        return name.hasPrefix(".incoming-") || name.range(of: ".amanat-partial-") != nil
            || name.range(of: ".partial-") != nil
    }

    /// Uses the journal in `dotFolder` (the workspace's `.amanat/`) for later registrations.
    static func useJournal(in dotFolder: URL) {
        lock.lock()
        journal = dotFolder.appendingPathComponent(journalName)
        lock.unlock()
    }

    /// Registers `path` before it is created; returns the token for ``unregister(_:)``.
    public static func register(_ path: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        nextToken += 1
        live[nextToken] = path
        if let journal { append("\(getpid()) \(hex(path))\n", to: journal) }
        return nextToken
    }

    /// Forgets a registration (the path was committed into place or removed). When nothing of this process is left,
    /// its lines leave the journal too (and the journal goes when it is empty), so a finished command leaves the
    /// workspace as it found it.
    public static func unregister(_ token: Int) {
        lock.lock()
        live[token] = nil
        let idle = live.isEmpty
        let journal = self.journal
        lock.unlock()
        if idle, let journal { dropLines(of: getpid(), from: journal) }
    }

    static func dropLines(of pid: Int32, from journal: URL) {
        let fd = open(journal.path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { return }
        defer { flock(fd, LOCK_UN) }
        let text = (try? String(contentsOf: journal, encoding: .utf8)) ?? ""
        let kept = text.split(separator: "\n").filter { !$0.hasPrefix("\(pid) ") }
        if kept.isEmpty {
            unlink(journal.path)
        } else {
            let rewritten = kept.map { $0 + "\n" }.joined()
            _ = ftruncate(fd, 0)
            _ = rewritten.withCString { pointer in pwrite(fd, pointer, strlen(pointer), 0) }
        }
    }

    /// Removes everything registered and still present (called when the command is interrupted). Safe to call from
    /// any thread; registrations made afterwards are removed by the next ``sweep(workspace:)``.
    public static func removeAll() {
        lock.lock()
        let paths = Array(live.values)
        live = [:]
        lock.unlock()
        // The command's own thread keeps writing while this runs (it is stopped only by the exit that follows): a
        // file it creates during the removal makes that removal fail, so try again until the path is gone (its
        // writers create no missing parent folder, so once the path is gone it stays gone).
        for path in paths {
            for _ in 0..<200 {
                try? FileManager.default.removeItem(atPath: path)
                var info = stat()
                if lstat(path, &info) != 0 { break }
                usleep(1000)
            }
        }
    }

    /// Removes the staging folders of commands that are no longer running, as the journal in `dotFolder` lists them,
    /// and any `.incoming-…` folder directly in `dotFolder` that no live registration owns; keeps the journal lines of
    /// running commands. Returns the number of paths removed.
    @discardableResult
    public static func sweep(dotFolder: URL) -> Int {
        let journalURL = dotFolder.appendingPathComponent(journalName)
        var removed = 0
        let fd = open(journalURL.path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return sweepIncoming(dotFolder: dotFolder, ownedByRunning: []) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { return 0 }
        defer { flock(fd, LOCK_UN) }
        let text = (try? String(contentsOf: journalURL, encoding: .utf8)) ?? ""
        var kept: [String] = []
        var ownedByRunning = Set<String>()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let pid = Int32(fields[0]), let path = unhex(String(fields[1])) else { continue }
            if pid != getpid() && isRunning(pid) {
                kept.append(String(line))
                ownedByRunning.insert(path)
                continue
            }
            lock.lock()
            let ours = live.values.contains(path)
            lock.unlock()
            if ours {
                kept.append(String(line))
                continue
            }
            if isStagingName(URL(fileURLWithPath: path).lastPathComponent),
                (try? FileManager.default.removeItem(atPath: path)) != nil
            {
                removed += 1
            }
        }
        removed += sweepIncoming(dotFolder: dotFolder, ownedByRunning: ownedByRunning)
        if kept.isEmpty {
            unlink(journalURL.path)  // nothing to remember: the workspace is left as it was
        } else {
            let rewritten = kept.map { $0 + "\n" }.joined()
            _ = ftruncate(fd, 0)
            _ = rewritten.withCString { pointer in pwrite(fd, pointer, strlen(pointer), 0) }
        }
        return removed
    }

    /// Removes import staging inside .amanat/ that no running command owns (also from runs that were killed before
    /// a journal existed).
    static func sweepIncoming(dotFolder: URL, ownedByRunning: Set<String>) -> Int {
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dotFolder.path)) ?? []
        where name.hasPrefix(".incoming-") {
            let path = dotFolder.appendingPathComponent(name).path
            lock.lock()
            let ours = live.values.contains(path)
            lock.unlock()
            if !ours && !ownedByRunning.contains(path), (try? FileManager.default.removeItem(atPath: path)) != nil {
                removed += 1
            }
        }
        return removed
    }

    static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    static func append(_ line: String, to journal: URL) {
        let fd = open(journal.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { return }
        defer { flock(fd, LOCK_UN) }
        _ = line.withCString { pointer in write(fd, pointer, strlen(pointer)) }
    }

    /// Paths are stored hex-encoded: a newline or space in a folder name cannot forge a journal line.
    static func hex(_ path: String) -> String {
        path.utf8.map { String(format: "%02x", $0) }.joined()
    }

    static func unhex(_ text: String) -> String? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
