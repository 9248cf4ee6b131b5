// Support: FNV-1a, a small fast hash of bytes — for hash tables keyed by names and for the
// checksums of records that must be told apart from torn writes. Not cryptographic.

public enum FNV1a {
    /// The 64-bit FNV-1a hash of `bytes`.
    @inlinable
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
