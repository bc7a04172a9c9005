import AmanatCrypto
import AmanatStore
import AmanatWorkspace
import Foundation

extension CLIHarness {
    /// The store of the workspace in `dir`, unlocked with the test passphrase (the store is encrypted at rest).
    static func store(_ dir: String) throws -> Store {
        try Workspace(
            root: URL(fileURLWithPath: dir), passphrase: { SecretBytes(Array("test passphrase 123".utf8)) }
        ).store()
    }
}
