import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// RFC 8032 §7.1 test vectors for Ed25519, typed in from the RFC.
@Suite struct Ed25519Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let secretKey: String
        let publicKey: String
        let message: String
        let signature: String
        var testDescription: String { name }
    }

    static let test1024Message = """
        08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1e355f6c5
        0544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d658675fc6ea534e0
        810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82
        d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e06203b33890cc9b832f79ef80560ccb9
        a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7aff6f6c9
        4fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5
        d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88
        425de6bde1a9187ebb6092cf67bf2b13fd65f27088d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc
        2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80
        c3414a8d0859dc65a46128bab27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae078
        4504df543af8969be3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9
        b47acdb751fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d
        cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34dff7310fdc
        82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7984a74d371459867
        80fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e488acba6b965610b5480109c8
        b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e
        6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041e989f791
        4f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45
        a96768d40fd9d03412c091c6315cf4fde7cb68606937380db2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac
        86aba41c0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0
        """

    static let vectors: [Vector] = [
        Vector(
            name: "TEST 1",
            secretKey: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            message: "",
            signature: """
                e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b\
                d25bf5f0595bbe24655141438e7a100b
                """),
        Vector(
            name: "TEST 2",
            secretKey: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            message: "72",
            signature: """
                92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c\
                387b2eaeb4302aeeb00d291612bb0c00
                """),
        Vector(
            name: "TEST 3",
            secretKey: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            message: "af82",
            signature: """
                6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc659\
                4a7c15e9716ed28dc027beceea1ec40a
                """),
        Vector(
            name: "TEST 1024",
            secretKey: "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
            publicKey: "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
            message: test1024Message,
            signature: """
                0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b\
                5e8fcd4f681e30a6ac00a9704a188a03
                """),
        Vector(
            name: "TEST SHA(abc)",
            secretKey: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            message: """
                ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd\
                454d4423643ce80e2a9ac94fa54ca49f
                """,
            signature: """
                dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e030\
                3dca179c138ac17ad9bef1177331a704
                """),
    ]

    @Test(arguments: vectors)
    func rfc8032(_ vector: Vector) throws {
        let key = try Ed25519.SigningKey(seed: SecretBytes(Hex.decode(vector.secretKey)))
        let message = Hex.decode(vector.message)
        let expected = Hex.decode(vector.signature)
        #expect(key.publicKey.rawRepresentation == Hex.decode(vector.publicKey))
        #expect(try key.signature(for: message) == expected)
        #expect(try key.seed().unprotectedArray == Hex.decode(vector.secretKey))

        let verifier = try Ed25519.VerifyingKey(rawRepresentation: Hex.decode(vector.publicKey))
        #expect(verifier.isValidSignature(expected, for: message))
        // Any single flipped bit in signature or message must be refused.
        for bit in [0, 7, 255, 256, 511] {
            var bad = expected
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(!verifier.isValidSignature(bad, for: message))
        }
        #expect(!verifier.isValidSignature(expected, for: message + [0]))
        if !message.isEmpty {
            var changed = message
            changed[changed.count - 1] ^= 0x01
            #expect(!verifier.isValidSignature(expected, for: changed))
        }
    }

    @Test func vectorLengths() {
        #expect(Hex.decode(Self.test1024Message).count == 1023)
        #expect(Hex.decode(Self.vectors[4].message).count == 64)
    }

    @Test(.requires(.openssl)) func sha512OfABCIsTheSHAabcMessage() throws {
        // The RFC's "SHA(abc)" message is SHA-512("abc"); cross-check with the stock tool.
        let openssl = try ExternalTool.openssl.require()
        let result = try Subprocess.run(openssl, ["dgst", "-sha512", "-binary"], stdin: Data("abc".utf8))
        #expect(result.status == 0)
        #expect(result.stdout == Hex.decode(Self.vectors[4].message))
    }

    @Test func wrongLengthsRefused() throws {
        #expect(throws: CryptoError.invalidLength(what: "private key", expected: 32, actual: 31)) {
            try Ed25519.SigningKey(seed: SecretBytes(zeroes: 31))
        }
        #expect(throws: CryptoError.invalidLength(what: "public key", expected: 32, actual: 33)) {
            try Ed25519.VerifyingKey(rawRepresentation: [UInt8](repeating: 1, count: 33))
        }
        let key = try Ed25519.SigningKey.generate()
        let signature = try key.signature(for: utf8("m"))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: utf8("m")))
        #expect(!key.publicKey.isValidSignature(signature + [0], for: utf8("m")))
        #expect(!key.publicKey.isValidSignature([UInt8](), for: utf8("m")))
    }

    @Test func generatedKeysDiffer() throws {
        let a = try Ed25519.SigningKey.generate()
        let b = try Ed25519.SigningKey.generate()
        #expect(a.publicKey != b.publicKey)
        #expect(try a.seed() != b.seed())
        let rebuilt = try Ed25519.SigningKey(seed: try a.seed())
        #expect(rebuilt.publicKey == a.publicKey)
    }

    @Test func jwkAndPEMRoundTrip() throws {
        let key = try Ed25519.SigningKey(seed: SecretBytes(Hex.decode(Self.vectors[0].secretKey)))
        let jwk = key.publicKey.jwk
        #expect(jwk == JWK(crv: "Ed25519", kty: "OKP", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
        #expect(try Ed25519.VerifyingKey(jwk: jwk) == key.publicKey)
        let pem = try key.publicKey.pemRepresentation()
        #expect(
            pem
                == "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n"
        )
        #expect(try Ed25519.VerifyingKey(pemRepresentation: pem) == key.publicKey)
        #expect(throws: CryptoError.malformed(what: "JWK", reason: "contains a private key (d)")) {
            try Ed25519.VerifyingKey(jwk: JWK(crv: "Ed25519", kty: "OKP", x: jwk.x, d: "AAAA"))
        }
        #expect(throws: CryptoError.malformed(what: "JWK", reason: "expected kty OKP and crv Ed25519")) {
            try Ed25519.VerifyingKey(jwk: JWK(crv: "X25519", kty: "OKP", x: jwk.x))
        }
        #expect(throws: CryptoError.malformed(what: "JWK", reason: "x is not 32 bytes of base64url")) {
            try Ed25519.VerifyingKey(jwk: JWK(crv: "Ed25519", kty: "OKP", x: jwk.x + "A"))
        }
    }
}
