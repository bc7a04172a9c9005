// `amanat-bench view WORKSPACE`: the steps of `amanat check --rebuild` on an existing workspace, each timed alone
// (the scale script's stores: how the stored view's rebuild and the derivation behind `check` grow with the store).
import AmanatCrypto
import AmanatWorkspace
import Foundation

func viewBenchmark(workspace path: String) throws {
    guard let passphrase = ProcessInfo.processInfo.environment["AMANAT_PASSPHRASE"] else {
        throw BenchError("view needs AMANAT_PASSPHRASE to unlock the workspace")
    }
    let workspace = Workspace(
        root: URL(fileURLWithPath: path), passphrase: { SecretBytes(Array(passphrase.utf8)) },
        passphraseOrigin: "AMANAT_PASSPHRASE")
    var t = now()
    let sync = try SyncService(workspace: workspace)
    let store = sync.service.store
    print(String(format: "view benchmark: %@ (opened in %.2f s)", path, now() - t))
    t = now()
    try store.rebuildView(authority: sync.service.authority)
    let rebuild = now() - t
    t = now()
    let counts = try store.viewCounts(authority: sync.service.authority)
    let stored = try store.stateHash()
    let read = now() - t
    t = now()
    var states = 0
    try store.forEachRecordState(authority: sync.service.authority) { _ in
        states += 1
        return true
    }
    let summaries = now() - t
    t = now()
    let derived = try store.derivedCountsAndStateHash(authority: sync.service.authority)
    let derivation = now() - t
    print(
        String(
            format: "  rebuild of the stored view: %.2f s for %d records, %d versions (%.0f records/s)", rebuild,
            counts.records, counts.versions, Double(counts.records) / rebuild))
    print(String(format: "  counts + stored state hash: %.2f s", read))
    print(String(format: "  every summary opened: %.2f s (%d)", summaries, states))
    print(
        String(
            format: "  derived counts and state hash: %.2f s (%@)", derivation,
            derived.stateHash == stored && derived.counts == counts ? "agree" : "DIFFER"))
    print(String(format: "  peak RSS: %.0f MiB", peakRSSMiB()))
}
