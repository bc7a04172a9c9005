import Foundation

/// The CSV column layout of Specs/records.md, derived from the schema: dotted snake_case paths, numbered
/// groups for arrays of objects, one-cell lists, pair lists and the status-history mini-syntax.
struct CSVLayout {
    /// JSON array of objects → singular CSV prefix, numbered from 1.
    static let numbered: [String: String] = [
        "detainees": "detainee", "attachments": "attachment", "links": "link",
        "translations": "translation", "relativesInXinjiang": "relative", "detention": "detention",
    ]
    static let singular: [String: String] = Dictionary(uniqueKeysWithValues: numbered.map { ($1, $0) })
    /// Pair lists `a:b;…` and the member names of each pair.
    static let pairLists: [String: (String, String)] = [
        "documents": ("kind", "number"), "messengerIds": ("app", "id"), "other": ("lang", "value"),
    ]
    static let statusKey = "statusHistory"
    static let statusColumn = "status"
    /// Highest group number accepted in a column name (`detainee999.…`).
    static let maximumGroupNumber = 999

    enum Step: Hashable {
        case key(String)
        /// Array property and its 1-based number.
        case group(String, Int)
    }

    enum Leaf {
        case scalar(JSONKind, text: Bool)
        case list(JSONKind)
        case pairList(String, String)
        case statusList
    }

    struct Column {
        var name: String
        /// Containers from the record root to the object holding the leaf.
        var steps: [Step]
        var key: String
        var leaf: Leaf
        /// The schema node of the leaf property.
        var node: SchemaNode
    }

    let schema: RecordSchema

    static func snake(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase, c.isASCII {
                out += "_" + c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func camel(_ name: String) -> String {
        var out = ""
        var upper = false
        for c in name {
            if c == "_" {
                upper = true
            } else if upper {
                out += c.uppercased()
                upper = false
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Whether a leaf is free text (taken literally) rather than structured (trimmed): a string with no
    /// `enum`, `const`, `pattern` or `format` anywhere along its `$ref` chain.
    static func isStructured(_ node: SchemaNode) -> Bool {
        var n: SchemaNode? = node
        while let current = n {
            if current.enumValues != nil || current.constValue != nil || current.pattern != nil || current.format != nil
            {
                return true
            }
            n = current.ref
        }
        return false
    }

    static func scalarKind(_ node: SchemaNode) -> JSONKind? {
        guard let types = node.resolvedTypes else { return .string }  // e.g. `schema` (const only)
        for kind in [JSONKind.string, .integer, .number, .boolean] where types.contains(kind) { return kind }
        return nil
    }

    static func isObject(_ node: SchemaNode) -> Bool { node.resolvedTypes?.contains(.object) ?? false }
    static func isArray(_ node: SchemaNode) -> Bool { node.resolvedTypes?.contains(.array) ?? false }

    /// The column for a header name, or nil if the layout has no such column.
    func column(named name: String) -> Column? {
        let segments = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var node = schema.root
        var steps: [Step] = []
        for (i, segment) in segments.enumerated() {
            let last = i == segments.count - 1
            // detaineeN, attachmentN, …
            if let split = Self.splitNumber(segment), let plural = Self.singular[split.0],
                let prop = node.childSchema(forKey: plural), let items = prop.itemSchema
            {
                guard !last else { return nil }
                steps.append(.group(plural, split.1))
                node = items
                continue
            }
            if segment == Self.statusColumn, let prop = node.childSchema(forKey: Self.statusKey) {
                guard last else { return nil }
                return Column(name: name, steps: steps, key: Self.statusKey, leaf: .statusList, node: prop)
            }
            let key = Self.camel(segment)
            guard Self.snake(key) == segment, !segment.isEmpty, key != Self.statusKey, Self.numbered[key] == nil,
                let prop = node.childSchema(forKey: key)
            else { return nil }
            if last {
                if let pair = Self.pairLists[key], Self.isArray(prop) {
                    return Column(name: name, steps: steps, key: key, leaf: .pairList(pair.0, pair.1), node: prop)
                }
                if Self.isArray(prop) {
                    guard let items = prop.itemSchema, !Self.isObject(items), let kind = Self.scalarKind(items) else {
                        return nil
                    }
                    return Column(name: name, steps: steps, key: key, leaf: .list(kind), node: prop)
                }
                guard !Self.isObject(prop), let kind = Self.scalarKind(prop) else { return nil }
                let text = kind == .string && !Self.isStructured(prop)
                return Column(name: name, steps: steps, key: key, leaf: .scalar(kind, text: text), node: prop)
            }
            guard Self.isObject(prop), Self.pairLists[key] == nil else { return nil }
            steps.append(.key(key))
            node = prop
        }
        return nil
    }

    /// `detainee12` → ("detainee", 12); nil unless letters then a number 1…999 without leading zero.
    static func splitNumber(_ segment: String) -> (String, Int)? {
        guard let firstDigit = segment.firstIndex(where: { $0.isASCII && $0.isNumber }) else { return nil }
        let prefix = segment[..<firstDigit]
        let digits = segment[firstDigit...]
        guard !prefix.isEmpty, prefix.allSatisfy({ $0.isASCII && $0.isLowercase }),
            digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0", digits.count <= 3,
            let n = Int(digits), n >= 1, n <= maximumGroupNumber
        else { return nil }
        return (String(prefix), n)
    }

    /// Maps a path inside a record to the column that holds it. Returns the column name and how many path
    /// components the column covers (the rest is inside a list cell), or nil when the path is an object or
    /// group rather than a cell.
    func column(for path: [PathComponent]) -> (name: String, covered: Int)? {
        var node = schema.root
        var prefix = ""
        var i = 0
        while i < path.count {
            guard case .key(let key) = path[i], let prop = node.childSchema(forKey: key) else { return nil }
            if let singular = Self.numbered[key] {
                guard i + 1 < path.count, case .index(let n) = path[i + 1], let items = prop.itemSchema else {
                    return nil
                }
                prefix += "\(singular)\(n + 1)."
                node = items
                i += 2
                continue
            }
            if key == Self.statusKey { return (prefix + Self.statusColumn, i + 1) }
            if Self.isArray(prop) || !Self.isObject(prop) { return (prefix + Self.snake(key), i + 1) }
            prefix += Self.snake(key) + "."
            node = prop
            i += 1
        }
        return nil
    }

    /// Every column with `N`, `M`, `K` standing for group numbers, in schema order (as
    /// `check.py --columns` prints them).
    func genericColumns() -> [String] {
        var out: [String] = []
        func visit(_ node: SchemaNode, _ prefix: String, _ depth: Int) {
            for key in node.resolvedPropertyOrder {
                guard let prop = node.childSchema(forKey: key) else { continue }
                let col = prefix + Self.snake(key)
                if key == Self.statusKey {
                    out.append(prefix + Self.statusColumn)
                } else if Self.pairLists[key] != nil {
                    out.append(col)
                } else if let singular = Self.numbered[key], let items = prop.itemSchema {
                    let letter = ["N", "M", "K"][min(depth, 2)]
                    visit(items, "\(prefix)\(singular)\(letter).", depth + 1)
                } else if Self.isObject(prop) {
                    visit(prop, col + ".", depth)
                } else {
                    out.append(col)
                }
            }
        }
        visit(schema.root, "", 0)
        return out
    }
}
