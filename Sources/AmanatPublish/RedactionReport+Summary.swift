import AmanatRedaction

extension RedactionReport {
    /// One paragraph per record: counts per kind and operator, never values.
    public var summary: String {
        let r = self
        var lines = [
            "\(r.record): \(r.original) original value(s) presented (\(r.disclosuresPresented) disclosures), \(r.withheld) withheld "
                + "(\(r.notInPolicy) not named by the policy)"
        ]
        if !r.conditions.isEmpty {
            lines.append(
                "  conditions in force: policy line(s) \(r.conditions.map(String.init).joined(separator: ", "))")
        }
        if !r.fields.isEmpty {
            lines.append(
                "  fields replaced: "
                    + r.fields.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        if !r.identifiers.isEmpty {
            let parts = r.identifiers.sorted { $0.key < $1.key }.map { kind, ops in
                "\(kind) " + ops.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
            }
            lines.append("  identifiers in text: " + parts.joined(separator: "; "))
        }
        if !r.textWithheldWhole.isEmpty {
            let total = r.textWithheldWhole.values.reduce(0, +)
            lines.append(
                "  withheld whole: \(total) identifier(s) sat inside text with other words ("
                    + r.textWithheldWhole.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                        separator: ", ")
                    + "); the text around them is withheld too, marked \(RedactionMarker.textWithheld)")
        }
        return lines.joined(separator: "\n")
    }
}
