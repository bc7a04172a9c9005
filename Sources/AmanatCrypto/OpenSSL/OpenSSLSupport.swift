internal import COpenSSL

/// Drains OpenSSL's thread-local error queue into a ``CryptoError`` so the next call does not inherit stale errors.
func opensslError(_ operation: String) -> CryptoError {
    .openssl(operation: operation, reasons: drainOpenSSLErrors())
}

/// Empties OpenSSL's thread-local error queue and returns the reason strings of its first eight entries.
func drainOpenSSLErrors() -> [String] {
    var reasons: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        if reasons.count < 8, let reason = ERR_reason_error_string(code) {
            reasons.append(String(cString: reason))
        }
    }
    return reasons
}

/// Clears any stale entries from OpenSSL's error queue.
func clearOpenSSLErrors() {
    ERR_clear_error()
}

/// Throws the drained error queue unless `result` is 1 (OpenSSL's success value for most calls).
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws {
    guard result == 1 else { throw opensslError(operation()) }
}

/// Returns the pointer or throws the drained error queue.
@inline(__always)
func checkPointer(_ pointer: OpaquePointer?, _ operation: @autoclosure () -> String) throws -> OpaquePointer {
    guard let pointer else { throw opensslError(operation()) }
    return pointer
}

/// Zeroes memory in a way the optimizer may not remove.
func secureZero(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
    guard count > 0 else { return }
    OPENSSL_cleanse(pointer, count)
}

/// Compares two byte buffers in time that depends only on their length.
func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return CRYPTO_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}

/// A list of `OSSL_PARAM`s whose keys and values live in memory this object owns, so every pointer stays valid
/// for the whole call that uses them (the `OSSL_PARAM` trap). Octet-string values are wiped on deinit.
final class ParameterList {
    private var params: [OSSL_PARAM] = []
    private var allocations: [(UnsafeMutableRawPointer, Int)] = []

    private func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        let size = max(bytes.count, 1)
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        if bytes.count > 0 { pointer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        allocations.append((pointer, size))
        return pointer
    }

    private func key(_ name: String) -> UnsafeMutablePointer<CChar> {
        var utf8 = Array(name.utf8CString)
        let pointer = utf8.withUnsafeBytes { copy($0) }
        utf8.removeAll()
        return pointer.assumingMemoryBound(to: CChar.self)
    }

    func addUTF8(_ name: String, _ value: String) {
        let k = key(name)
        let v = key(value)
        params.append(OSSL_PARAM_construct_utf8_string(k, v, 0))
    }

    func addOctets(_ name: String, _ value: UnsafeRawBufferPointer) {
        let k = key(name)
        let v = copy(value)
        params.append(OSSL_PARAM_construct_octet_string(k, v, value.count))
    }

    func addUInt64(_ name: String, _ value: UInt64) {
        let k = key(name)
        var v = value
        let p = withUnsafeBytes(of: &v) { copy($0) }
        params.append(OSSL_PARAM_construct_uint64(k, p.assumingMemoryBound(to: UInt64.self)))
    }

    func addUInt32(_ name: String, _ value: UInt32) {
        let k = key(name)
        var v = value
        let p = withUnsafeBytes(of: &v) { copy($0) }
        params.append(OSSL_PARAM_construct_uint32(k, p.assumingMemoryBound(to: UInt32.self)))
    }

    /// Calls `body` with a pointer to the end-terminated parameter array.
    func withParameters<R>(_ body: (UnsafePointer<OSSL_PARAM>) throws -> R) throws -> R {
        var all = params
        all.append(OSSL_PARAM_construct_end())
        let count = all.count
        let buffer = UnsafeMutablePointer<OSSL_PARAM>.allocate(capacity: count)
        buffer.initialize(from: all, count: count)
        defer {
            buffer.deinitialize(count: count)
            buffer.deallocate()
        }
        return try body(UnsafePointer(buffer))
    }

    deinit {
        for (pointer, size) in allocations {
            OPENSSL_cleanse(pointer, size)
            pointer.deallocate()
        }
    }
}

/// Wipes a buffer the caller owns (e.g. a plaintext chunk buffer before it is deallocated).
public func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
    if let base = buffer.baseAddress, buffer.count > 0 { OPENSSL_cleanse(base, buffer.count) }
}
