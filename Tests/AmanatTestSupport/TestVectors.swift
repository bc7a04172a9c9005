import Foundation

/// The public test vectors vendored in `Tests/Vectors/` (see the README and each folder's SOURCE.md there).
///
/// They are part of the repository, so the suites that read them always run; those suites also assert how many
/// cases they ran, so a file that goes missing or changes fails a test instead of passing silently.
public enum TestVectors {
    /// `Tests/Vectors/` in the package.
    public static let folder: URL = PackagePaths.url("Tests/Vectors")

    /// C2SP/wycheproof JSON files (`testvectors_v1/`).
    public static let wycheproof: URL = folder.appendingPathComponent("wycheproof")

    /// The C2SP/CCTV age test kit (`age/testdata/`): one test file per vector.
    public static let ageTestkit: URL = folder.appendingPathComponent("age-testkit")

    /// The C2SP/CCTV Ed25519 edge cases (`ed25519/`).
    public static let ed25519CCTV: URL = folder.appendingPathComponent("ed25519-cctv")
}
