import AmanatCrypto
import AmanatMedia
import AmanatRecords
import Foundation

/// A published derivative of an attachment (`Specs/media-redaction.md`, "Publishing"): `media/<sha256>.<ext>` in
/// the publication folder, and beside it `media/<sha256>.media.jws`, a compact JWS (EdDSA) signed by the
/// publisher whose payload is
///
/// ```
/// {"rid": record id, "vid": presented version id, "kind": attachment kind, "iat": time,
///  "media": the MediaAnnotation (original and derivative SHA-256, rectangles, intervals, metadata removed, tools)}
/// ```
///
/// The original's SHA-256 is one the presented version signs in its `att` claim, so a reader can tie the
/// derivative to the collector-signed record, and a partner holding the sealed original can compare the two.
public enum MediaPublication {
    public static let type = "amanat-media-annotation+jws"
    /// The folder of the derivatives inside a publication.
    public static let folder = "media"
    public static let annotationSuffix = ".media.jws"

    /// `<sha256>.<ext>`
    public static func derivativeName(sha256: String, extension ext: String) -> String { "\(sha256).\(ext)" }

    /// The annotation beside a derivative: `media/<sha>.mp4` → `media/<sha>.media.jws`.
    public static func annotationPath(forDerivative path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let base = url.deletingPathExtension().lastPathComponent
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? base + annotationSuffix : folder + "/" + base + annotationSuffix
    }

    /// The derivative's file extension for media of `kind`; photos keep PNG when the original is PNG.
    public static func derivativeExtension(kind: MediaInfo.Kind, originalFormat: String) -> String {
        switch kind {
        case .video: return "mp4"
        case .audio: return "m4a"
        case .photo: return originalFormat.contains("png") ? "png" : "jpg"
        }
    }

    /// Signs a media annotation for record `recordId`, presented as version `versionId`.
    public static func sign(
        _ annotation: MediaAnnotation, recordId: String, versionId: String, attachmentKind: String,
        key: Ed25519.SigningKey, issuedAt: Int
    ) throws -> String {
        let media = try JSONValue.parse(annotation.canonicalBytes())
        let payload = JSONValue.object([
            ("rid", .string(recordId)),
            ("vid", .string(versionId)),
            ("kind", .string(attachmentKind)),
            ("iat", .number(String(issuedAt))),
            ("media", media),
        ])
        let header = JSONValue.object([("typ", .string(type)), ("kid", .string(Fingerprint.of(key.publicKey)))])
        return try SignedJWT.sign(header: header, payload: payload, key: key)
    }

    /// A media annotation whose publisher signature verified.
    public struct Verified: Sendable {
        public var publisherFingerprint: String
        public var recordId: String
        public var versionId: String
        public var attachmentKind: String
        public var issuedAt: Int
        public var annotation: MediaAnnotation
    }

    /// Checks the JWS's type and its signature by a trusted publisher key, and reads the annotation.
    /// - Throws: ``PublicationError`` `malformed` or `verificationFailed`, naming `file`.
    public static func verify(
        _ text: String, file: String, trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws -> Verified {
        let shown = UntrustedText.printable(file)
        let (jwt, kid) = try PublisherJWS.open(
            text, file: shown, type: type, what: "media annotation", trustedKey: trustedKey)
        let p = jwt.payload
        guard let rid = p["rid"]?.stringValue, let vid = p["vid"]?.stringValue,
            let kind = p["kind"]?.stringValue, case .number(let iat)? = p["iat"], let media = p["media"]
        else {
            throw PublicationError(.malformed, "\(shown) lacks rid, vid, kind, iat or media.")
        }
        let annotation: MediaAnnotation
        do {
            annotation = try MediaAnnotation.decode(Array(media.canonical().utf8), name: file)
        } catch {
            throw PublicationError(.malformed, UntrustedText.printable(error.description))
        }
        return Verified(
            publisherFingerprint: kid, recordId: rid, versionId: vid, attachmentKind: kind, issuedAt: Int(iat) ?? 0,
            annotation: annotation)
    }
}
