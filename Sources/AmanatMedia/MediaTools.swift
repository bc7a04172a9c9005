import Foundation

/// The outside media tools (ffmpeg, ffprobe), found on `PATH` and run as subprocesses with an argument array (never a
/// shell), with a timeout; their stderr tail goes into the error when they fail.
public struct MediaTools: Sendable {
    /// Absolute path of ffmpeg.
    public let ffmpeg: String
    /// Absolute path of ffprobe.
    public let ffprobe: String
    /// ffmpeg's version line (`ffmpeg version 5.1.…`), recorded in annotations.
    public let ffmpegVersion: String
    /// ffprobe's version line.
    public let ffprobeVersion: String
    /// The longest one tool run may take.
    public var timeout: Double

    /// Finds ffmpeg and ffprobe on `PATH` (or in `searchPath`) and checks that they are 5.1 or later.
    /// - Throws: ``MediaError/toolMissing(tool:)``, ``MediaError/toolUnsupported(tool:found:)``.
    public static func locate(
        searchPath: String? = ProcessInfo.processInfo.environment["PATH"], timeout: Double = 3600
    ) throws(MediaError) -> MediaTools {
        guard let ffmpeg = find("ffmpeg", in: searchPath) else { throw .toolMissing(tool: "ffmpeg") }
        guard let ffprobe = find("ffprobe", in: searchPath) else { throw .toolMissing(tool: "ffprobe") }
        let ffmpegVersion = try versionLine(ffmpeg, name: "ffmpeg")
        let ffprobeVersion = try versionLine(ffprobe, name: "ffprobe")
        return MediaTools(
            ffmpeg: ffmpeg, ffprobe: ffprobe, ffmpegVersion: ffmpegVersion, ffprobeVersion: ffprobeVersion,
            timeout: timeout)
    }

    static func find(_ name: String, in searchPath: String?) -> String? {
        for directory in (searchPath ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The first line of `tool -version`, checked to be version 5.1 or later.
    static func versionLine(_ path: String, name: String) throws(MediaError) -> String {
        let result = try ToolRun.run(path, ["-hide_banner", "-version"], name: name, timeout: 30)
        let line = String(decoding: result.stdout.prefix { $0 != 0x0A }, as: UTF8.self)
        let prefix = name + " version "
        guard line.hasPrefix(prefix) else { throw .toolUnsupported(tool: name, found: String(line.prefix(80))) }
        let version = line.dropFirst(prefix.count).prefix { $0 != " " }
        let numbers = version.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2, (numbers[0], numbers[1]) >= (5, 1) else {
            throw .toolUnsupported(tool: name, found: String(line.prefix(80)))
        }
        return "\(name) \(version)"
    }

    /// A local path as ffmpeg must see it: absolute, with the `file:` protocol, so that a name such as
    /// `concat:a|b`, `http://…` or `-x` is never read as a protocol or an option.
    public static func fileURL(_ path: String) -> String {
        "file:" + URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// File extensions ffmpeg's image2 demuxer claims: for these a `%` in the name would be read as a frame-number
    /// pattern (`a%d.jpg` opens `a1.jpg`).
    static let imagePatternExtensions: Set<String> = [
        "jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp", "jp2", "pgm", "ppm", "pbm", "pam", "tga", "sgi", "dpx",
        "exr", "jxl", "jls", "pcx", "ras", "xbm", "xwd",
    ]

    /// The options that open `path` as exactly that file: `file:` protocol, and for an image whose name holds `%`,
    /// the image2 demuxer with patterns off. Without `-i` (ffprobe takes the input as its last argument).
    public static func inputOptions(_ path: String) -> [String] {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        if name.contains("%") && imagePatternExtensions.contains(ext) {
            return ["-f", "image2", "-pattern_type", "none"]
        }
        return []
    }

    /// `-i file:PATH`, preceded by ``inputOptions(_:)``.
    public static func inputArguments(_ path: String) -> [String] {
        inputOptions(path) + ["-i", fileURL(path)]
    }

    /// Runs ffmpeg with `arguments` (after `-hide_banner -nostdin -loglevel error`).
    @discardableResult
    func runFFmpeg(_ arguments: [String]) throws(MediaError) -> ToolRun.Output {
        try ToolRun.run(
            ffmpeg, ["-hide_banner", "-nostdin", "-loglevel", "error"] + arguments, name: "ffmpeg", timeout: timeout)
    }

    /// Runs ffprobe with `arguments` (after `-v error`).
    func runFFprobe(_ arguments: [String]) throws(MediaError) -> ToolRun.Output {
        try ToolRun.run(ffprobe, ["-v", "error"] + arguments, name: "ffprobe", timeout: min(timeout, 300))
    }
}

/// One run of an outside program.
enum ToolRun {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        /// The last 2 KiB of stderr, as text.
        var stderrTail: String
    }

    /// Runs `path` with `arguments`; throws when it cannot start, times out or exits with a non-zero status
    /// (unless `allowFailure`).
    static func run(
        _ path: String, _ arguments: [String], name: String, timeout: Double, allowFailure: Bool = false
    ) throws(MediaError) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        _ = ignoreBrokenPipes
        do {
            try process.run()
        } catch {
            throw .toolMissing(tool: name)
        }
        let group = DispatchGroup()
        let errors = Box()
        let errHandle = errPipe.fileHandleForReading
        group.enter()
        Thread.detachNewThread {
            errors.data = errHandle.readDataToEndOfFile()
            group.leave()
        }
        let timedOut = Box()
        let timer = DispatchWorkItem {
            if process.isRunning {
                timedOut.flag = true
                process.terminate()
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let output = outPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        timer.cancel()
        if timedOut.flag { throw .toolTimedOut(tool: name, seconds: timeout) }
        let tail = String(decoding: errors.data.suffix(2048), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let status = process.terminationStatus
        if status != 0 && !allowFailure {
            throw .toolFailed(tool: name, status: status, diagnostics: tail.isEmpty ? "no message" : tail)
        }
        return Output(status: status, stdout: Array(output), stderrTail: tail)
    }

    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    private final class Box: @unchecked Sendable {
        var data = Data()
        var flag = false
    }
}
