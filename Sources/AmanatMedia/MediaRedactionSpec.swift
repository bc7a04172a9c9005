import Foundation

/// What to cover and mute in one media file (Specs/media-redaction.md): rectangles in pixels with an optional time
/// range, and audio intervals to silence or replace by a tone.
public struct MediaRedactionSpec: Sendable, Equatable, Codable {
    /// A region of the picture covered in every frame of its time range (the whole file when none is given).
    public struct Rectangle: Sendable, Equatable, Codable {
        public enum Style: String, Sendable, Codable {
            /// A solid black box (digits under a blur can be recovered; under a fill they cannot).
            case fill
            /// Coarse blocks of 16 px or more: for faces, where a viewer should still see a person is there.
            case pixelate
        }
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int
        /// Seconds; nil with `end` nil: the whole file.
        public var start: Double?
        public var end: Double?
        public var style: Style
        /// Why (free text for the publisher, e.g. "ID card"); never an identifier.
        public var reason: String?

        public init(
            x: Int, y: Int, width: Int, height: Int, start: Double? = nil, end: Double? = nil, style: Style = .fill,
            reason: String? = nil
        ) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
            self.start = start
            self.end = end
            self.style = style
            self.reason = reason
        }
    }

    /// An audio interval silenced or replaced by a 1 kHz tone.
    public struct Interval: Sendable, Equatable, Codable {
        public enum Audio: String, Sendable, Codable {
            case mute, tone
        }
        public var start: Double
        public var end: Double
        public var audio: Audio
        public var reason: String?

        public init(start: Double, end: Double, audio: Audio = .mute, reason: String? = nil) {
            self.start = start
            self.end = end
            self.audio = audio
            self.reason = reason
        }
    }

    public var rectangles: [Rectangle]
    public var intervals: [Interval]

    public init(rectangles: [Rectangle] = [], intervals: [Interval] = []) {
        self.rectangles = rectangles
        self.intervals = intervals
    }

    /// Limits of a spec file.
    public static let maximumBytes = 1 << 20
    public static let maximumRectangles = 256
    public static let maximumIntervals = 4096
    /// The format version this code reads and writes.
    public static let formatVersion = 1

    /// Parses a spec strictly: a JSON object with `amanat_media_redaction: 1`, `rectangles` and `intervals`; unknown
    /// keys, wrong types, negative or non-finite numbers and empty or reversed ranges are errors.
    /// - Parameter name: the file name used in errors.
    public static func parse(_ bytes: [UInt8], name: String) throws(MediaError) -> MediaRedactionSpec {
        guard bytes.count <= maximumBytes else {
            throw .invalidSpec(path: name, reason: "it is larger than \(maximumBytes >> 20) MiB")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw .invalidSpec(path: name, reason: "it is not JSON")
        }
        guard let top = object as? [String: Any] else {
            throw .invalidSpec(path: name, reason: "the top level must be a JSON object")
        }
        try onlyKeys(top, ["amanat_media_redaction", "rectangles", "intervals"], at: "the top level", name: name)
        guard let version = top["amanat_media_redaction"] else {
            throw .invalidSpec(path: name, reason: "\"amanat_media_redaction\": 1 is missing")
        }
        guard try integer(version, "amanat_media_redaction", name: name) == formatVersion else {
            throw .invalidSpec(path: name, reason: "amanat_media_redaction must be \(formatVersion)")
        }
        var spec = MediaRedactionSpec()
        let rectangles = try array(top["rectangles"], "rectangles", name: name)
        guard rectangles.count <= maximumRectangles else {
            throw .invalidSpec(path: name, reason: "more than \(maximumRectangles) rectangles")
        }
        for (index, item) in rectangles.enumerated() {
            let at = "rectangles[\(index)]"
            guard let fields = item as? [String: Any] else {
                throw .invalidSpec(path: name, reason: "\(at) is not an object")
            }
            try onlyKeys(fields, ["x", "y", "width", "height", "start", "end", "style", "reason"], at: at, name: name)
            func required(_ key: String) throws(MediaError) -> Int {
                guard let value = fields[key] else { throw .invalidSpec(path: name, reason: "\(at).\(key) is missing") }
                return try integer(value, "\(at).\(key)", name: name)
            }
            var rectangle = Rectangle(
                x: try required("x"), y: try required("y"), width: try required("width"),
                height: try required("height"))
            guard rectangle.width > 0, rectangle.height > 0 else {
                throw .invalidSpec(path: name, reason: "\(at) must have a positive width and height")
            }
            rectangle.start = try fields["start"].map { v throws(MediaError) in
                try seconds(v, "\(at).start", name: name)
            }
            rectangle.end = try fields["end"].map { v throws(MediaError) in try seconds(v, "\(at).end", name: name) }
            if let start = rectangle.start, let end = rectangle.end, end <= start {
                throw .invalidSpec(path: name, reason: "\(at).end must be after its start")
            }
            if let style = fields["style"] {
                guard let text = style as? String, let value = Rectangle.Style(rawValue: text) else {
                    throw .invalidSpec(path: name, reason: "\(at).style must be \"fill\" or \"pixelate\"")
                }
                rectangle.style = value
            }
            rectangle.reason = try fields["reason"].map { v throws(MediaError) in
                try reasonText(v, "\(at).reason", name: name)
            }
            spec.rectangles.append(rectangle)
        }
        let intervals = try array(top["intervals"], "intervals", name: name)
        guard intervals.count <= maximumIntervals else {
            throw .invalidSpec(path: name, reason: "more than \(maximumIntervals) intervals")
        }
        for (index, item) in intervals.enumerated() {
            let at = "intervals[\(index)]"
            guard let fields = item as? [String: Any] else {
                throw .invalidSpec(path: name, reason: "\(at) is not an object")
            }
            try onlyKeys(fields, ["start", "end", "audio", "reason"], at: at, name: name)
            guard let start = fields["start"], let end = fields["end"] else {
                throw .invalidSpec(path: name, reason: "\(at) needs start and end")
            }
            var interval = Interval(
                start: try seconds(start, "\(at).start", name: name), end: try seconds(end, "\(at).end", name: name))
            guard interval.end > interval.start else {
                throw .invalidSpec(path: name, reason: "\(at).end must be after its start")
            }
            if let audio = fields["audio"] {
                guard let text = audio as? String, let value = Interval.Audio(rawValue: text) else {
                    throw .invalidSpec(path: name, reason: "\(at).audio must be \"mute\" or \"tone\"")
                }
                interval.audio = value
            }
            interval.reason = try fields["reason"].map { v throws(MediaError) in
                try reasonText(v, "\(at).reason", name: name)
            }
            spec.intervals.append(interval)
        }
        return spec
    }

    /// The spec as JSON (keys sorted), as `parse` reads it.
    public func jsonBytes() -> [UInt8] {
        var rectangles: [[String: Any]] = []
        for r in self.rectangles {
            var item: [String: Any] = [
                "x": r.x, "y": r.y, "width": r.width, "height": r.height, "style": r.style.rawValue,
            ]
            if let start = r.start { item["start"] = start }
            if let end = r.end { item["end"] = end }
            if let reason = r.reason { item["reason"] = reason }
            rectangles.append(item)
        }
        var intervals: [[String: Any]] = []
        for i in self.intervals {
            var item: [String: Any] = ["start": i.start, "end": i.end, "audio": i.audio.rawValue]
            if let reason = i.reason { item["reason"] = reason }
            intervals.append(item)
        }
        let top: [String: Any] = [
            "amanat_media_redaction": MediaRedactionSpec.formatVersion, "rectangles": rectangles,
            "intervals": intervals,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: top, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return Array(data) + [0x0A]
    }

    /// Checks the spec against the media's real size and duration.
    /// - Throws: ``MediaError/specDoesNotFit(path:reason:)`` naming the first rectangle or interval that does not fit.
    public func validate(against info: MediaInfo, name: String) throws(MediaError) {
        let tolerance = 0.0005
        if !rectangles.isEmpty {
            guard info.hasVideo, let width = info.width, let height = info.height else {
                throw .specDoesNotFit(path: name, reason: "it has rectangles but the media has no picture")
            }
            for (index, r) in rectangles.enumerated() {
                guard r.x >= 0, r.y >= 0, r.x + r.width <= width, r.y + r.height <= height else {
                    throw .specDoesNotFit(
                        path: name,
                        reason: "rectangles[\(index)] (\(r.x),\(r.y) \(r.width)x\(r.height)) is outside the "
                            + "\(width)x\(height) frame")
                }
                if info.kind == .photo, r.start != nil || r.end != nil {
                    throw .specDoesNotFit(
                        path: name, reason: "rectangles[\(index)] has a time range but this is a photo")
                }
                for t in [r.start, r.end].compactMap({ $0 }) where t > info.duration + tolerance {
                    throw .specDoesNotFit(
                        path: name,
                        reason: "rectangles[\(index)] runs to \(t) s, past the end (\(info.duration) s)")
                }
            }
        }
        if !intervals.isEmpty {
            guard info.hasAudio else {
                throw .specDoesNotFit(path: name, reason: "it has audio intervals but the media has no sound")
            }
            for (index, i) in intervals.enumerated() where i.end > info.duration + tolerance {
                throw .specDoesNotFit(
                    path: name, reason: "intervals[\(index)] ends at \(i.end) s, past the end (\(info.duration) s)")
            }
        }
    }

    /// Adds `intervals` (e.g. from a timed transcript's identifier findings) widened by `margin` seconds on each side
    /// and clamped to `0...duration`.
    public mutating func addIntervals(
        _ ranges: [(start: Double, end: Double)], margin: Double, duration: Double, reason: String
    ) {
        for range in ranges {
            let start = max(0, range.start - margin)
            let end = min(duration, range.end + margin)
            if end > start { intervals.append(Interval(start: start, end: end, audio: .mute, reason: reason)) }
        }
    }

    // MARK: Strict field readers

    private static func onlyKeys(
        _ fields: [String: Any], _ allowed: Set<String>, at: String, name: String
    )
        throws(MediaError)
    {
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            let shown = String(unknown.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(40))
            throw .invalidSpec(path: name, reason: "\(at) has an unknown key \"\(shown)\"")
        }
    }

    private static func isBoolean(_ value: Any) -> Bool {
        if value is Bool, let number = value as? NSNumber {
            // On Linux every NSNumber bridges to Bool; JSON booleans have the objCType "c".
            return String(cString: number.objCType) == "c"
        }
        return false
    }

    private static func integer(_ value: Any, _ field: String, name: String) throws(MediaError) -> Int {
        guard !isBoolean(value), let number = value as? NSNumber, let int = Int(exactly: number.doubleValue),
            Double(int) == number.doubleValue, int >= 0, int <= 1 << 20
        else {
            throw .invalidSpec(path: name, reason: "\(field) must be a whole number from 0 to \(1 << 20)")
        }
        return int
    }

    private static func seconds(_ value: Any, _ field: String, name: String) throws(MediaError) -> Double {
        guard !isBoolean(value), let number = value as? NSNumber, number.doubleValue.isFinite,
            number.doubleValue >= 0, number.doubleValue <= 1e7
        else {
            throw .invalidSpec(path: name, reason: "\(field) must be a number of seconds from 0")
        }
        return number.doubleValue
    }

    private static func array(_ value: Any?, _ field: String, name: String) throws(MediaError) -> [Any] {
        guard let value else { return [] }
        guard let items = value as? [Any] else { throw .invalidSpec(path: name, reason: "\(field) must be an array") }
        return items
    }

    private static func reasonText(_ value: Any, _ field: String, name: String) throws(MediaError) -> String {
        guard let text = value as? String, text.count <= 200 else {
            throw .invalidSpec(path: name, reason: "\(field) must be a string of at most 200 characters")
        }
        return text
    }
}
