// swift-tools-version:6.1
// libFuzzer harnesses for Amanat's parsers. A package of its own, so the main build and tests are untouched.
// Build: swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library (see README.md, `run`).
import PackageDescription

/// One executable per harness: Sources/<name>/Harness.swift defines LLVMFuzzerTestOneInput.
let harnesses: [(name: String, dependencies: [Target.Dependency])] = [
    ("age-header", [.product(name: "AmanatAge", package: "Amanat")]),
    ("age-stream", [.product(name: "AmanatAge", package: "Amanat")]),
    ("tar", [.product(name: "AmanatBundle", package: "Amanat"), .product(name: "AmanatAge", package: "Amanat")]),
    ("manifest", [.product(name: "AmanatBundle", package: "Amanat")]),
    ("sdjwt", [.product(name: "AmanatRecords", package: "Amanat")]),
    ("json", [.product(name: "AmanatRecords", package: "Amanat")]),
    ("schema", [.product(name: "AmanatRecords", package: "Amanat")]),
    ("csv", [.product(name: "AmanatRecords", package: "Amanat")]),
    ("policy", [.product(name: "AmanatRedaction", package: "Amanat")]),
    ("keys", [.product(name: "AmanatAge", package: "Amanat")]),
    ("bech32", [.product(name: "AmanatAge", package: "Amanat")]),
    ("base64", []),
    ("detectors", [.product(name: "AmanatRedaction", package: "Amanat")]),
    ("timestamp", [.product(name: "AmanatCrypto", package: "Amanat")]),
    ("tlog", [.product(name: "AmanatLog", package: "Amanat")]),
]

let package = Package(
    name: "AmanatFuzz",
    platforms: [.macOS(.v14)],
    products: harnesses.map { .executable(name: "fuzz-\($0.name)", targets: [$0.name]) } + [
        .executable(name: "fuzz-seed", targets: ["seed"])
    ],
    dependencies: [.package(name: "Amanat", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "AmanatCrypto", package: "Amanat"),
                .product(name: "AmanatAge", package: "Amanat"),
            ]
        ),
        // Writes the generated seeds (signed bundles, manifests, SD-JWTs, key files) under a folder; see `seed`.
        .executableTarget(
            name: "seed",
            dependencies: [
                "FuzzSupport",
                .product(name: "AmanatCrypto", package: "Amanat"),
                .product(name: "AmanatAge", package: "Amanat"),
                .product(name: "AmanatBundle", package: "Amanat"),
                .product(name: "AmanatRecords", package: "Amanat"),
            ]
        ),
    ]
        + harnesses.map {
            .executableTarget(name: $0.name, dependencies: ["FuzzSupport"] + $0.dependencies)
        },
    swiftLanguageModes: [.v6]
)
