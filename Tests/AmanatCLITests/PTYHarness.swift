import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the `amanat` binary (or any program) on a real pseudo-terminal, as a person at a terminal would: standard
/// input, output and error are the terminal, which is also the program's controlling terminal (`isatty` is true,
/// `/dev/tty` opens, echo can be turned off). Use it to test prompts (confirmations, passphrases).
///
///     let result = try PTYHarness.run(["erase", id, "--reason", "asked"], in: dir, environment: env, input: [short])
///     #expect(result.status == 0 && result.output.contains("Type the record's short id"))
///
/// Each input line is written once the program has printed something new and then gone quiet for a moment
/// (``Step/waitFor`` makes it wait for a given text instead), so a prompt that flushes pending input (as the
/// passphrase prompt does) still gets its answer. Output is everything the terminal showed, the echo of typed lines
/// included, with the terminal's `\r\n` turned back into `\n`. A program that runs longer than the timeout is killed
/// (`status` is then ``timedOutStatus``), so a test can never hang.
enum PTYHarness {
    /// What the terminal showed and how the program ended.
    struct Result {
        /// The exit status, 128 + the signal number if a signal ended it, or ``timedOutStatus``.
        var status: Int32
        /// Everything written to the terminal (stdout and stderr interleaved, echoed input included).
        var output: String
        /// Whether the program was killed because it ran past the timeout.
        var timedOut: Bool
    }

    /// One line to type.
    struct Step {
        /// Type the line once the output holds this text (after what earlier steps waited for); nil: once the
        /// program has printed something new and gone quiet.
        var waitFor: String?
        /// The line, without its newline.
        var line: String

        init(waitFor: String? = nil, line: String) {
            self.waitFor = waitFor
            self.line = line
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case system(String, Int32)
        var description: String {
            switch self {
            case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    /// The status reported when the program was killed at the timeout.
    static let timedOutStatus: Int32 = -1

    /// Runs the `amanat` binary the CLI tests use (``CLIHarness/executable``) in `directory`, typing `input` one
    /// line per prompt. `environment` is added to this process's environment, from which `AMANAT_PASSPHRASE` and
    /// `AMANAT_WORKSPACE` are removed first (as ``CLIHarness/run(_:in:passphrase:environment:stdin:)`` does): without
    /// `AMANAT_PASSPHRASE` in `environment`, amanat asks for the passphrase on the terminal.
    static func run(
        _ arguments: [String], in directory: String, environment: [String: String] = [:], input: [String],
        timeout: TimeInterval = 60
    ) throws -> Result {
        try run(
            arguments, in: directory, environment: environment, steps: input.map { Step(line: $0) }, timeout: timeout)
    }

    /// As ``run(_:in:environment:input:timeout:)``, with steps that may wait for a given prompt text.
    static func run(
        _ arguments: [String], in directory: String, environment: [String: String] = [:], steps: [Step],
        timeout: TimeInterval = 60
    ) throws -> Result {
        var full = ProcessInfo.processInfo.environment
        full.removeValue(forKey: "AMANAT_PASSPHRASE")
        full.removeValue(forKey: "AMANAT_WORKSPACE")
        for (key, value) in environment { full[key] = value }
        return try run(
            executable: CLIHarness.executable.path, arguments, in: directory, environment: full, steps: steps,
            timeout: timeout)
    }

    /// Runs `executable` with `arguments` in `directory`, with exactly `environment`, typing `steps`.
    static func run(
        executable: String, _ arguments: [String], in directory: String, environment: [String: String],
        steps: [Step], timeout: TimeInterval = 60, quietPeriod: TimeInterval = 0.2
    ) throws -> Result {
        _ = ignoreBrokenPipes
        let master = C.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw Failure.system("posix_openpt", errno) }
        defer { close(master) }
        guard C.grantpt(master) == 0 else { throw Failure.system("grantpt", errno) }
        guard C.unlockpt(master) == 0 else { throw Failure.system("unlockpt", errno) }
        var nameBuffer = [CChar](repeating: 0, count: 128)
        guard C.ptsname_r(master, &nameBuffer, nameBuffer.count) == 0 else {
            throw Failure.system("ptsname_r", errno)
        }
        let slavePath = String(decoding: nameBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        // The child: a new session (setsid), so that opening the terminal (without O_NOCTTY) makes it the
        // controlling terminal; then the terminal as fd 0, 1 and 2, in `directory`.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(
            &attributes, Int16(C.spawnSetsid | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        _ = C.addchdir(&actions, directory)
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)

        let argv = [executable] + arguments
        let env = environment.map { "\($0.key)=\($0.value)" }
        var pid = pid_t()
        let spawned = withCStrings(argv) { argvPointers in
            withCStrings(env) { envPointers in
                posix_spawn(&pid, executable, &actions, &attributes, argvPointers, envPointers)
            }
        }
        guard spawned == 0 else { throw Failure.system("posix_spawn", spawned) }

        let flags = fcntl(master, F_GETFL)
        _ = fcntl(master, F_SETFL, flags | O_NONBLOCK)
        var output: [UInt8] = []
        var pending = steps[...]
        var searchFrom = 0
        var outputAtLastWrite = 0
        var lastEcho: [UInt8] = []
        var lastOutput = Date()
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32?
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, 20)
            var readSomething = false
            while true {
                let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
                if n > 0 {
                    output += buffer[0..<n]
                    readSomething = true
                    lastOutput = Date()
                } else {
                    break  // EAGAIN (nothing more now) or EIO (every slave descriptor closed)
                }
            }
            if status != nil && !readSomething { break }
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    status = Self.exitStatus(raw)
                    continue  // drain what is left
                }
            }
            if status == nil, let step = pending.first {
                let ready: Bool
                if let waitFor = step.waitFor {
                    let text = String(decoding: output[min(searchFrom, output.count)...], as: UTF8.self)
                    if let range = text.range(of: waitFor) {
                        searchFrom += text[..<range.upperBound].utf8.count
                        ready = true
                    } else {
                        ready = false
                    }
                } else {
                    // Something new besides the echo of the line typed last, then a quiet moment.
                    var fresh = output[min(outputAtLastWrite, output.count)...]
                    if fresh.starts(with: lastEcho) { fresh = fresh.dropFirst(lastEcho.count) }
                    ready = !fresh.isEmpty && Date().timeIntervalSince(lastOutput) >= quietPeriod
                }
                if ready {
                    let bytes = Array((step.line + "\n").utf8)
                    _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
                    pending = pending.dropFirst()
                    outputAtLastWrite = output.count
                    lastEcho = Array((step.line + "\r\n").utf8)
                }
            }
            if status == nil && Date() > deadline {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                waitpid(pid, &raw, 0)
                status = timedOutStatus
                timedOut = true
            }
        }
        let text = String(decoding: output, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        return Result(status: status ?? timedOutStatus, output: text, timedOut: timedOut)
    }

    /// The exit code, or 128 + the signal number, from a raw `waitpid` status.
    static func exitStatus(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    /// Calls `body` with a NULL-terminated C array of copies of `strings`.
    static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }

    /// The glibc functions the Swift Glibc module does not declare (they sit behind _XOPEN_SOURCE / _GNU_SOURCE),
    /// looked up at run time.
    enum C {
        nonisolated(unsafe) static let handle = dlopen(nil, RTLD_NOW)
        static func function<T>(_ name: String, as type: T.Type) -> T {
            guard let symbol = dlsym(handle, name) else { fatalError("glibc has no \(name)") }
            return unsafeBitCast(symbol, to: type)
        }
        static let posix_openpt = function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
        static let grantpt = function("grantpt", as: (@convention(c) (Int32) -> Int32).self)
        static let unlockpt = function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
        static let ptsname_r = function(
            "ptsname_r", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32).self)
        static let addchdir = function(
            "posix_spawn_file_actions_addchdir_np",
            as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)
                .self)
        /// POSIX_SPAWN_SETSID (glibc 2.26 and later): the child starts a new session.
        static let spawnSetsid: Int32 = 0x80
    }

    /// A write to a terminal whose program has exited must not end the test process.
    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}
