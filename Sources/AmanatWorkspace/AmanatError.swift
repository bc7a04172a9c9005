import Foundation

/// An error the application reports to a person: what failed, about which file or record, and what to do next.
///
/// The message never contains secrets, plaintext or identifiers. Front ends choose how to show it (the command
/// line maps ``Kind`` to an exit code); nothing in the libraries prints or exits.
public struct AmanatError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is, so that a front end can react (exit codes, HTTP statuses).
    public enum Kind: Sendable, Hashable, CaseIterable {
        /// A signature, key, passphrase or hash did not verify, or the rules refuse the sender.
        case verificationFailed
        /// Concurrent versions must be resolved first.
        case conflicts
        /// The request itself is wrong or not allowed (a bad option, a record that may not be shared).
        case invalidRequest
        /// An input is malformed.
        case malformedInput
        /// An input is missing.
        case inputMissing
        /// An output could not be created.
        case cannotCreateOutput
        /// A read or write failed.
        case ioError
        /// An outside tool the operation needs (ffmpeg, ffprobe) is missing or too old.
        case toolUnavailable
    }

    public var kind: Kind
    /// The whole message: what happened, about which file or record, and what to do next.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// The reason for the last failed system call, as people read it.
func systemError() -> String { String(cString: strerror(errno)) }
