import Foundation

/// How much a value says about a person (`x-sensitivity` in the schema; Specs/records.md, "Sensitivity").
public enum Sensitivity: String, Sendable, CaseIterable, Comparable {
    case identifying
    case sensitive
    case `public`

    /// Orders by exposure: `public` < `sensitive` < `identifying`.
    public static func < (a: Sensitivity, b: Sensitivity) -> Bool { a.rank < b.rank }
    private var rank: Int {
        switch self {
        case .public: return 0
        case .sensitive: return 1
        case .identifying: return 2
        }
    }
}

/// One way a value breaks the schema. `message` is plain English about the field and the rule; it never
/// contains the offending value (values may be ID numbers).
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// Where in the instance, as components; for `required` this is the missing member itself.
    public var path: [PathComponent]
    /// The failing keyword: `type`, `required`, `pattern`, … or `calendar` (a full partial date that is not a
    /// real calendar date, records.md).
    public var keyword: String
    public var message: String

    public init(path: [PathComponent], keyword: String, message: String) {
        self.path = path
        self.keyword = keyword
        self.message = message
    }

    /// JSON Pointer of `path`, e.g. `/testifier/phones/0`; `""` is the whole record.
    public var pointer: String { JSONPointer.string(path) }

    /// The pointer is escaped (``UntrustedText/printable(_:)``): member names come from the record.
    public var description: String { "\(path.isEmpty ? "(record)" : UntrustedText.printable(pointer)): \(message)" }
}

/// A problem with the schema document itself. Thrown by the loader; the schema is ours, so this is a bug
/// or a newer schema than this build understands, never user input.
public struct RecordSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Location in the schema document, e.g. `#/$defs/phone/pattern`.
    public var location: String
    public var reason: String

    public var description: String { "record schema \(location): \(reason)" }
}

/// The record schema (Specs/record.schema.json, JSON Schema 2020-12), compiled for validation and for
/// sensitivity look-ups.
///
/// Implemented keywords (anything else makes the loader throw, so a schema change cannot silently weaken
/// validation): `$ref` (only `#/$defs/NAME`), `type` (incl. `integer`), `properties`, `additionalProperties`
/// (boolean or schema), `required`, `items` (single schema), `enum`, `const`, `pattern` (ECMA-262 meaning on
/// ICU), `format` (asserted: `date`, `date-time`, `email`, `uri`), `minLength`/`maxLength` (code points),
/// `minimum`/`maximum` (exact decimals), `minItems`, `uniqueItems`, `minProperties`, `anyOf`, `oneOf`,
/// `contains`; boolean schemas. Annotations: `title`, `description`, `$comment`, `examples`, `default`,
/// `deprecated`, `readOnly`, `writeOnly`, and `x-sensitivity` (checked to be a known level); `$schema`
/// (must be 2020-12), `$id` and `$defs` at the root only. Other `x-` keywords are refused (a misspelt
/// `x-sensitivity` must not pass unnoticed).
///
/// In addition to 2020-12, a string validated through `#/$defs/partialDate` in the full `YYYY-MM-DD` form
/// must be a real calendar date (keyword `calendar`), as records.md requires.
public final class RecordSchema: Sendable {
    let root: SchemaNode
    let definitions: [String: SchemaNode]
    /// `$id` of the schema, if it has one.
    public let id: String?

    /// The default number of violations `validate` reports before it stops.
    public static let defaultViolationLimit = 50

    /// Compiles a schema document.
    /// - Throws: `RecordSchemaError` for invalid JSON, an unknown keyword, a `$ref` that is not
    ///   `#/$defs/NAME` or points nowhere, a bad keyword value, a pattern that does not compile, or a `$ref`
    ///   cycle that does not consume input.
    public init(bytes: some Collection<UInt8>) throws {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch let error as JSONParseError {
            throw RecordSchemaError(location: "#", reason: "not valid JSON: \(error)")
        }
        var compiler = SchemaCompiler()
        let compiled = try compiler.compileDocument(json)
        root = compiled.root
        definitions = compiled.defs
        id = compiled.id
    }

    /// The bundled copy of Specs/record.schema.json, loaded once.
    /// - Throws: `RecordSchemaError` if the resource is missing or does not compile (a build problem).
    public static func bundled() throws -> RecordSchema {
        try bundledResult.get()
    }

    /// The bytes of the bundled schema resource.
    public static func bundledBytes() throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "record.schema", withExtension: "json") else {
            throw RecordSchemaError(location: "#", reason: "the bundled resource record.schema.json is missing")
        }
        do {
            return Array(try Data(contentsOf: url))
        } catch {
            throw RecordSchemaError(location: "#", reason: "the bundled resource record.schema.json cannot be read")
        }
    }

    private static let bundledResult: Result<RecordSchema, RecordSchemaError> = {
        do {
            return .success(try RecordSchema(bytes: try bundledBytes()))
        } catch let error as RecordSchemaError {
            return .failure(error)
        } catch {
            return .failure(RecordSchemaError(location: "#", reason: "cannot load the bundled schema"))
        }
    }()

    // MARK: Validation

    /// Validates `value` against the schema. Returns at most `limit` violations (in document order, roughly);
    /// an empty array means valid.
    public func validate(_ value: JSONValue, limit: Int = RecordSchema.defaultViolationLimit) -> [SchemaViolation] {
        var validator = SchemaValidator(limit: max(1, limit))
        var path: [PathComponent] = []
        validator.check(root, value, &path)
        return validator.violations
    }

    /// True when `value` is valid (stops at the first violation).
    public func isValid(_ value: JSONValue) -> Bool { validate(value, limit: 1).isEmpty }

    // MARK: Sensitivity

    /// The sensitivity of the value at `path` (records.md "Inheritance"): walking from the root, each schema
    /// node's own `x-sensitivity` (beside a `$ref`) wins over the one at the top of the referenced
    /// definition, and either replaces the inherited level. The root default is `identifying`; a path the
    /// schema does not describe (unknown member, index into a non-array) is `identifying`.
    public func sensitivity(at path: [PathComponent]) -> Sensitivity {
        var cursor = sensitivityRoot
        for step in path {
            cursor = cursor.child(step)
        }
        return cursor.level
    }

    /// The same for a JSON Pointer; a malformed pointer is `identifying`.
    public func sensitivity(atPointer pointer: String) -> Sensitivity {
        guard let path = JSONPointer.components(pointer) else { return .identifying }
        return sensitivity(at: path)
    }

    /// A cursor at the root, for walking a record tree without re-resolving the path from the root at every
    /// leaf: `schema.sensitivityRoot.child(.key("testifier")).child(.key("phones")).child(.index(0)).level`.
    public var sensitivityRoot: SensitivityCursor {
        SensitivityCursor(node: root, level: root.ownLevel ?? .identifying)
    }
}

/// A position in the schema while walking a record (see `RecordSchema.sensitivityRoot`). Each step is a
/// dictionary look-up on a compiled node whose own level was resolved when the schema was loaded.
public struct SensitivityCursor: Sendable {
    let node: SchemaNode?
    /// The sensitivity of the value at this position.
    public let level: Sensitivity

    /// The cursor for a member or element below this position.
    public func child(_ step: PathComponent) -> SensitivityCursor {
        guard let node else { return SensitivityCursor(node: nil, level: .identifying) }
        let next: SchemaNode?
        switch step {
        case .key(let key): next = node.childSchema(forKey: key)
        case .index: next = node.itemSchema
        }
        guard let next else { return SensitivityCursor(node: nil, level: .identifying) }
        return SensitivityCursor(node: next, level: next.ownLevel ?? level)
    }

    /// True when the schema describes this position (false below an unknown member).
    public var isDescribed: Bool { node != nil }
}

// MARK: - Compiled schema

enum JSONKind: String, CaseIterable {
    case null, boolean, object, array, number, string, integer
}

/// One schema object, compiled. Built and linked by `SchemaCompiler` inside `RecordSchema.init`, never
/// mutated afterwards (hence `@unchecked Sendable`).
final class SchemaNode: @unchecked Sendable {
    let location: String
    /// Definition or property name this node belongs to, for messages.
    let name: String?
    var alwaysValid = false
    var alwaysInvalid = false
    var refName: String?
    var ref: SchemaNode?
    var types: [JSONKind]?
    var properties: [String: SchemaNode] = [:]
    var propertyOrder: [String] = []
    var additionalProperties: SchemaNode?
    var required: [String] = []
    var items: SchemaNode?
    var enumValues: [JSONValue]?
    var constValue: JSONValue?
    var pattern: SchemaPattern?
    var format: SchemaFormat?
    var minLength: Int?
    var maxLength: Int?
    var minimum: DecimalNumber?
    var maximum: DecimalNumber?
    var minItems: Int?
    var uniqueItems = false
    var minProperties: Int?
    var anyOf: [SchemaNode]?
    var oneOf: [SchemaNode]?
    var contains: SchemaNode?
    var sensitivity: Sensitivity?
    var checksCalendar = false
    /// `sensitivity`, else the referenced definition's resolved level (set when linking).
    var ownLevel: Sensitivity?

    init(location: String, name: String?) {
        self.location = location
        self.name = name
    }

    /// The subschema that describes member `key` (own `properties`, then the `$ref` target's, then
    /// `additionalProperties` if it is a schema).
    func childSchema(forKey key: String) -> SchemaNode? {
        if let p = properties[key] { return p }
        if let r = ref, let p = r.childSchema(forKey: key) { return p }
        if let ap = additionalProperties, !ap.alwaysInvalid { return ap }
        return nil
    }

    /// The subschema for array elements (own `items`, else the `$ref` target's).
    var itemSchema: SchemaNode? { items ?? ref?.itemSchema }

    /// `type`, looking through `$ref`.
    var resolvedTypes: [JSONKind]? { types ?? ref?.resolvedTypes }

    /// Property names in schema order, looking through `$ref`.
    var resolvedPropertyOrder: [String] { propertyOrder.isEmpty ? (ref?.resolvedPropertyOrder ?? []) : propertyOrder }
}

struct SchemaCompiler {
    static let metaSchema = "https://json-schema.org/draft/2020-12/schema"
    static let validationKeywords: Set<String> = [
        "$ref", "type", "properties", "additionalProperties", "required", "items", "enum", "const", "pattern",
        "format", "minLength", "maxLength", "minimum", "maximum", "minItems", "uniqueItems", "minProperties",
        "anyOf", "oneOf", "contains",
    ]
    static let annotationKeywords: Set<String> = [
        "title", "description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly",
        "x-sensitivity",
    ]
    static let rootKeywords: Set<String> = ["$schema", "$id", "$defs"]

    var nodes: [SchemaNode] = []

    struct Compiled {
        var root: SchemaNode
        var defs: [String: SchemaNode]
        var id: String?
    }

    mutating func compileDocument(_ json: JSONValue) throws -> Compiled {
        guard case .object(let members) = json else { throw fail("#", "the schema must be a JSON object") }
        var id: String?
        if let meta = json["$schema"] {
            guard meta.stringValue == Self.metaSchema else {
                throw fail("#/$schema", "only JSON Schema 2020-12 (\(Self.metaSchema)) is supported")
            }
        }
        if let idValue = json["$id"] {
            guard let s = idValue.stringValue else { throw fail("#/$id", "must be a string") }
            id = s
        }
        var defs: [String: SchemaNode] = [:]
        if let defsValue = json["$defs"] {
            guard case .object(let entries) = defsValue else { throw fail("#/$defs", "must be an object") }
            for (name, schema) in entries {
                defs[name] = try compile(schema, at: "#/$defs/\(escape(name))", name: name)
            }
        }
        // records.md: a full partial date must be a real calendar date.
        defs["partialDate"]?.checksCalendar = true
        let root = try compile(.object(members), at: "#", name: nil, isRoot: true)
        // Link $refs.
        for node in nodes {
            guard let refName = node.refName else { continue }
            guard let target = defs[refName] else {
                throw fail(node.location + "/$ref", "points to a definition that does not exist")
            }
            node.ref = target
        }
        try checkCycles()
        // Resolve each node's own level (own annotation, else along its $ref chain; acyclic by now).
        for node in nodes {
            var n: SchemaNode? = node
            while let current = n, current.sensitivity == nil { n = current.ref }
            node.ownLevel = n?.sensitivity
        }
        return Compiled(root: root, defs: defs, id: id)
    }

    func fail(_ location: String, _ reason: String) -> RecordSchemaError {
        RecordSchemaError(location: location, reason: reason)
    }

    func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    mutating func compile(
        _ json: JSONValue, at location: String, name: String?, isRoot: Bool = false
    ) throws -> SchemaNode {
        let node = SchemaNode(location: location, name: name)
        nodes.append(node)
        if case .bool(let b) = json {
            if b { node.alwaysValid = true } else { node.alwaysInvalid = true }
            return node
        }
        guard case .object(let members) = json else { throw fail(location, "a schema must be an object or a boolean") }
        for (key, value) in members {
            let here = "\(location)/\(escape(key))"
            if Self.rootKeywords.contains(key) {
                guard isRoot else { throw fail(here, "\(key) is only supported at the root") }
                continue
            }
            if Self.annotationKeywords.contains(key) {
                if key == "x-sensitivity" {
                    guard let s = value.stringValue, let level = Sensitivity(rawValue: s) else {
                        throw fail(here, "x-sensitivity must be identifying, sensitive or public")
                    }
                    node.sensitivity = level
                }
                continue
            }
            guard Self.validationKeywords.contains(key) else {
                throw fail(here, "unsupported keyword \"\(key)\"")
            }
            try compileKeyword(key, value, into: node, at: here)
        }
        return node
    }

    private func nonNegativeInt(_ value: JSONValue, _ here: String) throws -> Int {
        guard case .number(let n) = value, let d = DecimalNumber(n), !d.negative, d.isInteger, let i = Int(d.plain),
            i >= 0
        else {
            throw fail(here, "must be a non-negative integer")
        }
        return i
    }

    private mutating func schemaList(_ value: JSONValue, _ here: String, name: String?) throws -> [SchemaNode] {
        guard case .array(let items) = value, !items.isEmpty else {
            throw fail(here, "must be a non-empty array of schemas")
        }
        var out: [SchemaNode] = []
        for (i, item) in items.enumerated() {
            out.append(try compile(item, at: "\(here)/\(i)", name: name))
        }
        return out
    }

    private mutating func compileKeyword(
        _ key: String, _ value: JSONValue, into node: SchemaNode, at here: String
    ) throws {
        switch key {
        case "$ref":
            guard let ref = value.stringValue, ref.hasPrefix("#/$defs/") else {
                throw fail(here, "only references of the form #/$defs/NAME are supported")
            }
            let token = String(ref.dropFirst("#/$defs/".count))
            guard !token.contains("/"), let parsed = JSONPointer.components("/" + token), parsed.count == 1 else {
                throw fail(here, "only references of the form #/$defs/NAME are supported")
            }
            node.refName = parsed[0].description
        case "type":
            let names: [String]
            if let s = value.stringValue {
                names = [s]
            } else if case .array(let list) = value, !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) {
                names = list.compactMap(\.stringValue)
            } else {
                throw fail(here, "must be a type name or a non-empty array of them")
            }
            var kinds: [JSONKind] = []
            for n in names {
                guard let kind = JSONKind(rawValue: n) else { throw fail(here, "unknown type \"\(n)\"") }
                kinds.append(kind)
            }
            node.types = kinds
        case "properties":
            guard case .object(let props) = value else { throw fail(here, "must be an object") }
            for (name, schema) in props {
                node.properties[name] = try compile(schema, at: "\(here)/\(escape(name))", name: name)
                node.propertyOrder.append(name)
            }
        case "additionalProperties":
            node.additionalProperties = try compile(value, at: here, name: node.name)
        case "required":
            guard case .array(let list) = value, list.allSatisfy({ $0.stringValue != nil }) else {
                throw fail(here, "must be an array of strings")
            }
            let names = list.compactMap(\.stringValue)
            guard Set(names).count == names.count else { throw fail(here, "must not repeat a name") }
            node.required = names
        case "items":
            guard !value.isArrayForm else { throw fail(here, "the array form of items (prefixItems) is not supported") }
            node.items = try compile(value, at: here, name: node.name)
        case "enum":
            guard case .array(let list) = value, !list.isEmpty else { throw fail(here, "must be a non-empty array") }
            node.enumValues = list
        case "const":
            node.constValue = value
        case "pattern":
            guard let source = value.stringValue else { throw fail(here, "must be a string") }
            do {
                node.pattern = try SchemaPattern(source)
            } catch {
                throw fail(here, "the pattern does not compile or uses an unsupported construct")
            }
        case "format":
            guard let s = value.stringValue, let format = SchemaFormat(rawValue: s) else {
                throw fail(here, "unsupported format (supported: date, date-time, email, uri)")
            }
            node.format = format
        case "minLength": node.minLength = try nonNegativeInt(value, here)
        case "maxLength": node.maxLength = try nonNegativeInt(value, here)
        case "minItems": node.minItems = try nonNegativeInt(value, here)
        case "minProperties": node.minProperties = try nonNegativeInt(value, here)
        case "minimum", "maximum":
            guard case .number(let n) = value, let d = DecimalNumber(n) else { throw fail(here, "must be a number") }
            if key == "minimum" { node.minimum = d } else { node.maximum = d }
        case "uniqueItems":
            guard case .bool(let b) = value else { throw fail(here, "must be a boolean") }
            node.uniqueItems = b
        case "anyOf": node.anyOf = try schemaList(value, here, name: node.name)
        case "oneOf": node.oneOf = try schemaList(value, here, name: node.name)
        case "contains": node.contains = try compile(value, at: here, name: node.name)
        default:
            throw fail(here, "unsupported keyword \"\(key)\"")
        }
    }

    /// A cycle through `$ref`, `anyOf` and `oneOf` alone would recurse forever on any input.
    func checkCycles() throws {
        var state: [ObjectIdentifier: Int] = [:]  // 1 = on stack, 2 = done
        func visit(_ node: SchemaNode) throws {
            let id = ObjectIdentifier(node)
            if state[id] == 2 { return }
            if state[id] == 1 { throw fail(node.location, "a $ref cycle that consumes no input") }
            state[id] = 1
            var next: [SchemaNode] = []
            if let r = node.ref { next.append(r) }
            next += node.anyOf ?? []
            next += node.oneOf ?? []
            for n in next { try visit(n) }
            state[id] = 2
        }
        for node in nodes { try visit(node) }
    }
}

extension JSONValue {
    fileprivate var isArrayForm: Bool {
        if case .array = self { return true }
        return false
    }
}
