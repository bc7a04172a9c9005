import AmanatCrypto

enum SecretBytesFixture {
    /// A fixed test key (not a real secret).
    static let key = SecretBytes(Array(0..<32).map { UInt8($0) })
}
