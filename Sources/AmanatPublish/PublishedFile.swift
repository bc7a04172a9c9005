import AmanatCrypto
import AmanatRecords
import Foundation

/// Verifies a published record: the presentation against the collector's key, and the annotation beside it (if
/// any) against the publisher's.
public enum PublishedFile {
    /// The annotation beside a presentation: `DIR/<id>.sd-jwt` → `DIR/<id>.annotation.jws`.
    public static func annotationPath(for file: String) -> String {
        let base = file.hasSuffix(".sd-jwt") ? String(file.dropLast(".sd-jwt".count)) : file
        return base + Annotation.fileSuffix
    }

    /// `<record-id>.tlog-proof` beside `<record-id>.sd-jwt`: the publication's inclusion proof in the publisher's
    /// log (`Specs/log.md`).
    public static func logProofPath(for file: String) -> String {
        let base = file.hasSuffix(".sd-jwt") ? String(file.dropLast(".sd-jwt".count)) : file
        return base + ".tlog-proof"
    }

    /// Verifies a presentation and, when given, its annotation (named `annotationFile` in errors).
    /// - Throws: ``AmanatRecords/SDJWTError`` when the presentation does not verify; ``PublicationError`` when
    ///   the annotation does not.
    public static func verify(
        presentation sdjwt: SDJWT, annotation: String?, annotationFile: String,
        trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws -> (VerifiedVersion, Annotation.Verified?) {
        let verified = try RecordVerifier.verify(sdjwt, trustedKey: trustedKey)
        guard let annotation else { return (verified, nil) }
        return (
            verified,
            try Annotation.verify(
                annotation, file: annotationFile, presentation: sdjwt, verified: verified, trustedKey: trustedKey)
        )
    }

    /// Reads and verifies `path` and the annotation beside it, if there is one.
    /// - Throws: ``PublicationError`` for unreadable or oversized files and annotations that do not verify;
    ///   ``AmanatRecords/SDJWTError`` when the presentation does not verify.
    public static func verify(
        _ path: String, trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws -> (VerifiedVersion, Annotation.Verified?) {
        let sdjwt = try SDJWT.parse(try read(path, what: "SD-JWT file"))
        let annotationPath = annotationPath(for: path)
        let annotation =
            FileManager.default.fileExists(atPath: annotationPath) ? try read(annotationPath, what: "annotation") : nil
        return try verify(
            presentation: sdjwt, annotation: annotation, annotationFile: annotationPath, trustedKey: trustedKey)
    }

    static func read(_ path: String, what: String) throws -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let data = FileManager.default.contents(atPath: path)
        else { throw PublicationError(.unreadable, "cannot read \(path) (\(what)).") }
        guard (attributes[.size] as? Int ?? 0) <= SDJWT.maximumSize else {
            throw PublicationError(.malformed, "\(path) is larger than \(SDJWT.maximumSize) bytes.")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Why a publication could not be made or verified. Messages name files, records and paths, never values.
public struct PublicationError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A signature or binding does not verify, or a published value is not what it claims.
        case verificationFailed
        /// A file is not what it should be.
        case malformed
        /// A file cannot be read.
        case unreadable
        /// The policy does not allow presenting the record (a plain claim it would have to strip).
        case refused
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
