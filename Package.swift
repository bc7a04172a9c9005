// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Amanat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "amanat", targets: ["amanat"]),
        .library(name: "AmanatCrypto", targets: ["AmanatCrypto"]),
        .library(name: "AmanatAge", targets: ["AmanatAge"]),
        .library(name: "AmanatBundle", targets: ["AmanatBundle"]),
        .library(name: "AmanatRecords", targets: ["AmanatRecords"]),
        .library(name: "AmanatRedaction", targets: ["AmanatRedaction"]),
        .library(name: "AmanatStore", targets: ["AmanatStore"]),
        .library(name: "AmanatSync", targets: ["AmanatSync"]),
        .library(name: "AmanatPublish", targets: ["AmanatPublish"]),
        .library(name: "AmanatLog", targets: ["AmanatLog"]),
        .library(name: "AmanatMedia", targets: ["AmanatMedia"]),
        .library(name: "AmanatWorkspace", targets: ["AmanatWorkspace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "AmanatCrypto",
            dependencies: ["COpenSSL"]
        ),
        .target(
            name: "AmanatAge",
            dependencies: ["AmanatCrypto"]
        ),
        .target(
            name: "AmanatBundle",
            dependencies: ["AmanatCrypto", "AmanatAge", "AmanatRecords"]
        ),
        .target(
            name: "AmanatRecords",
            dependencies: ["AmanatCrypto", "AmanatRedaction"],
            resources: [.copy("Resources/record.schema.json")]
        ),
        .target(
            name: "AmanatStore",
            dependencies: [
                "AmanatCrypto", "AmanatRecords", "AmanatSync", "AmanatLog",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "AmanatRedaction",
            dependencies: ["AmanatCrypto"]
        ),
        .target(
            name: "AmanatSync",
            dependencies: ["AmanatRecords", "AmanatCrypto"]
        ),
        .target(
            name: "AmanatPublish",
            dependencies: ["AmanatCrypto", "AmanatRecords", "AmanatRedaction", "AmanatMedia"]
        ),
        .target(
            name: "AmanatLog",
            dependencies: ["AmanatCrypto"]
        ),
        .target(
            name: "AmanatMedia",
            dependencies: ["AmanatCrypto"]
        ),
        .target(
            name: "AmanatWorkspace",
            dependencies: [
                "AmanatCrypto", "AmanatAge", "AmanatBundle", "AmanatRecords", "AmanatRedaction", "AmanatStore",
                "AmanatSync", "AmanatPublish", "AmanatLog", "AmanatMedia",
            ]
        ),
        .target(
            name: "AmanatCLI",
            dependencies: [
                "AmanatCrypto",
                "AmanatAge",
                "AmanatBundle",
                "AmanatRecords",
                "AmanatRedaction",
                "AmanatStore",
                "AmanatSync",
                "AmanatPublish",
                "AmanatWorkspace",
                "AmanatLog",
                "AmanatMedia",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources/demo-records.json"), .copy("Resources/public-policy.yaml")]
        ),
        .executableTarget(
            name: "amanat",
            dependencies: ["AmanatCLI"]
        ),
        .executableTarget(
            name: "amanat-bench",
            dependencies: [
                "AmanatCrypto", "AmanatBundle", "AmanatRecords", "AmanatStore", "AmanatSync", "AmanatWorkspace",
                "AmanatLog", "AmanatMedia",
            ],
            path: "Benchmarks/Sources/amanat-bench"
        ),
        // Helpers the test targets share: package root, vendored vectors, subprocesses, PATH lookup, PRNG, hex.
        .target(
            name: "AmanatTestSupport",
            dependencies: ["AmanatCrypto"],
            path: "Tests/AmanatTestSupport"
        ),
        .testTarget(
            name: "AmanatCryptoTests",
            dependencies: ["AmanatTestSupport", "AmanatCrypto"]
        ),
        .testTarget(
            name: "AmanatAgeTests",
            dependencies: ["AmanatTestSupport", "AmanatAge", "AmanatCrypto"]
        ),
        .testTarget(
            name: "AmanatBundleTests",
            dependencies: ["AmanatTestSupport", "AmanatBundle", "AmanatAge", "AmanatCrypto"]
        ),
        .testTarget(
            name: "AmanatRecordsTests",
            dependencies: ["AmanatTestSupport", "AmanatRecords", "AmanatCrypto"]
        ),
        .testTarget(
            name: "AmanatStoreTests",
            dependencies: [
                "AmanatTestSupport", "AmanatStore", "AmanatRecords", "AmanatCrypto", "AmanatSync", "AmanatLog",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "AmanatRedactionTests",
            dependencies: ["AmanatTestSupport", "AmanatRedaction"]
        ),
        .testTarget(
            name: "AmanatSyncTests",
            dependencies: ["AmanatTestSupport", "AmanatSync", "AmanatRecords", "AmanatStore"]
        ),
        .testTarget(
            name: "AmanatPublishTests",
            dependencies: ["AmanatTestSupport", "AmanatPublish", "AmanatRecords", "AmanatRedaction", "AmanatCrypto"]
        ),
        .testTarget(
            name: "AmanatLogTests",
            dependencies: ["AmanatTestSupport", "AmanatLog", "AmanatCrypto"]
        ),
        .testTarget(
            name: "AmanatMediaTests",
            dependencies: ["AmanatTestSupport", "AmanatMedia", "AmanatCrypto"]
        ),
        .testTarget(
            name: "AmanatWorkspaceTests",
            dependencies: [
                "AmanatTestSupport", "AmanatWorkspace", "AmanatPublish", "AmanatRecords", "AmanatSync", "AmanatStore",
            ]
        ),
        .testTarget(
            name: "AmanatCLITests",
            dependencies: [
                "AmanatTestSupport", "AmanatCLI", "AmanatCrypto", "AmanatStore", "AmanatRedaction", "AmanatWorkspace",
                "AmanatPublish", "AmanatBundle", "AmanatRecords", "AmanatSync", "AmanatLog", "AmanatMedia",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
