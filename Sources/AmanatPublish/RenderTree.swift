import AmanatRecords
import AmanatRedaction

/// Builds the redacted record for display: values at their paths, text segments joined in order.
struct RenderTree {
    private indirect enum Node {
        case leaf(JSONValue)
        case object([(String, Node)])
        case array([(Int, Node)])
        case text([(Int, String)])
    }

    private var root: Node = .object([])

    mutating func insert(_ path: [RecordPathStep], segment: Int?, value: JSONValue) {
        root = Self.insert(root, path[...], segment: segment, value: value)
    }

    private static func insert(
        _ node: Node, _ path: ArraySlice<RecordPathStep>, segment: Int?, value: JSONValue
    ) -> Node {
        guard let step = path.first else {
            if let segment {
                if case .text(var pieces) = node {
                    pieces.append((segment, value.stringValue ?? ""))
                    return .text(pieces)
                }
                return .text([(segment, value.stringValue ?? "")])
            }
            return .leaf(value)
        }
        switch step {
        case .key(let key):
            var members: [(String, Node)] = []
            if case .object(let existing) = node { members = existing }
            if let i = members.firstIndex(where: { $0.0 == key }) {
                members[i].1 = insert(members[i].1, path.dropFirst(), segment: segment, value: value)
            } else {
                members.append((key, insert(.object([]), path.dropFirst(), segment: segment, value: value)))
            }
            return .object(members)
        case .index(let index):
            var items: [(Int, Node)] = []
            if case .array(let existing) = node { items = existing }
            if let i = items.firstIndex(where: { $0.0 == index }) {
                items[i].1 = insert(items[i].1, path.dropFirst(), segment: segment, value: value)
            } else {
                items.append((index, insert(.object([]), path.dropFirst(), segment: segment, value: value)))
            }
            return .array(items)
        }
    }

    func json() -> JSONValue { Self.json(root) }

    private static func json(_ node: Node) -> JSONValue {
        switch node {
        case .leaf(let v): return v
        case .object(let members): return .object(members.map { ($0.0, json($0.1)) })
        case .array(let items): return .array(items.sorted { $0.0 < $1.0 }.map { json($0.1) })
        case .text(let pieces): return .string(pieces.sorted { $0.0 < $1.0 }.map(\.1).joined())
        }
    }
}
