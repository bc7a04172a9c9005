import Foundation

/// Runs a program as a child process and captures what it prints.
public enum Subprocess {
    /// What a finished child process left behind.
    public struct Result: Sendable {
        /// The exit status (the signal number if a signal ended it).
        public let status: Int32
        public let stdout: [UInt8]
        public let stderr: [UInt8]

        public init(status: Int32, stdout: [UInt8], stderr: [UInt8]) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }

        /// stdout as UTF-8 text (invalid sequences replaced).
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

        /// stderr as UTF-8 text (invalid sequences replaced).
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `executable` with `arguments` and waits for it to exit.
    ///
    /// - Parameters:
    ///   - directory: the working directory (default: this process's).
    ///   - environment: the complete environment of the child (default: this process's).
    ///   - stdin: bytes fed on standard input, which is then closed; without them stdin is `/dev/null`.
    ///
    /// stdin is written and stderr read on threads of their own, so a child that prints a lot, or reads slowly,
    /// cannot block on a full pipe.
    @discardableResult
    public static func run(
        _ executable: URL, _ arguments: [String] = [], in directory: URL? = nil,
        environment: [String: String]? = nil, stdin: Data? = nil
    ) throws -> Result {
        _ = ignoreBrokenPipes
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = stdin == nil ? nil : Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe ?? FileHandle.nullDevice
        try process.run()

        let done = DispatchGroup()
        if let stdin, let handle = inPipe?.fileHandleForWriting {
            done.enter()
            Thread.detachNewThread {
                // A child that exits without reading all of stdin is not an error here; its status tells.
                try? handle.write(contentsOf: stdin)
                try? handle.close()
                done.leave()
            }
        }
        let errors = Box()
        let errHandle = errPipe.fileHandleForReading
        done.enter()
        Thread.detachNewThread {
            errors.data = errHandle.readDataToEndOfFile()
            done.leave()
        }
        let output = outPipe.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: Array(output), stderr: Array(errors.data))
    }

    /// Runs the program at `path`, as the variant taking a URL does.
    @discardableResult
    public static func run(
        _ path: String, _ arguments: [String] = [], in directory: URL? = nil,
        environment: [String: String]? = nil, stdin: Data? = nil
    ) throws -> Result {
        try run(URL(fileURLWithPath: path), arguments, in: directory, environment: environment, stdin: stdin)
    }

    /// Writing to a child that has exited raises SIGPIPE, which would end the whole test process; with the signal
    /// ignored the write fails with EPIPE instead. Evaluated once, on first use.
    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// The stderr bytes, handed from the reading thread to the caller (which reads them after `done.wait()`).
    private final class Box: @unchecked Sendable {
        var data = Data()
    }
}
