import AmanatWorkspace
import ArgumentParser

/// `amanat check [--rebuild] [--json]`
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the store: SQLite's consistency, and the stored view against every version.",
        discussion: """
            The store keeps a derived view (each record's heads, status and summary, and the buckets of the state \
            hash), updated with every import and edit so that `status`, `list` and `duplicates` need not derive \
            every record again. `check` derives every record from its versions and compares: the counts and the \
            state hash must agree. Exit status 1 when they do not.

            --rebuild derives the stored view again first, in one transaction (after a crash of an older release, \
            or when `check` finds a difference). Both read every version: on a large store this takes a while.

            Examples:
              amanat check
              amanat check --rebuild --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Derive the stored view again from every version before checking.") var rebuild = false
    @Flag(name: .long, help: "Print one JSON object (integrity, records, versions, both state hashes, …).")
    var json = false

    func run() throws {
        let sync = try SyncService(workspace: try options.locate())
        let report = try sync.check(rebuild: rebuild)
        if json {
            try Console.json(report)
        } else {
            if report.rebuilt { Console.out("Stored view derived again from every version.") }
            Console.out("SQLite integrity: \(report.integrity ? "ok" : "FAILED")")
            Console.out("Records:          \(report.records), versions: \(report.versions)")
            Console.out("State hash:       \(report.storedStateHash) (stored view)")
            Console.out("                  \(report.derivedStateHash) (derived from every version)")
            Console.out("Counts:           \(report.countsAgree ? "agree" : "DIFFER")")
            if !report.isConsistent {
                Console.out("The store is not consistent: run `amanat check --rebuild`, or restore a backup.")
            }
        }
        if !report.isConsistent { throw ExitCode(1) }
    }
}
