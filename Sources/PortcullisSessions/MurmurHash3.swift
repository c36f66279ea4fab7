/// MurmurHash3 (Austin Appleby's public-domain design), seed 0, the variants
/// Tyk uses for `hash_keys`: x86 32-bit and x64 128-bit (whose first half is
/// Tyk's "murmur64"). Written from the algorithm description.
public enum MurmurHash3 {
    /// MurmurHash3_x86_32 of `bytes`.
    public static func x86_32<Bytes: Collection>(_ bytes: Bytes, seed: UInt32 = 0) -> UInt32 where Bytes.Element == UInt8 {
        let data = Array(bytes)
        let c1: UInt32 = 0xcc9e_2d51
        let c2: UInt32 = 0x1b87_3593
        var h = seed
        let blockCount = data.count / 4
        for block in 0..<blockCount {
            let i = block * 4
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k = (k &* c1).rotatedLeft(15) &* c2
            h ^= k
            h = h.rotatedLeft(13) &* 5 &+ 0xe654_6b64
        }
        let tail = blockCount * 4
        var k: UInt32 = 0
        let remainder = data.count & 3
        if remainder >= 3 { k ^= UInt32(data[tail + 2]) << 16 }
        if remainder >= 2 { k ^= UInt32(data[tail + 1]) << 8 }
        if remainder >= 1 {
            k ^= UInt32(data[tail])
            h ^= (k &* c1).rotatedLeft(15) &* c2
        }
        h ^= UInt32(truncatingIfNeeded: data.count)
        return fmix32(h)
    }

    /// MurmurHash3_x64_128 of `bytes`: the two 64-bit halves `(h1, h2)`.
    public static func x64_128<Bytes: Collection>(_ bytes: Bytes, seed: UInt64 = 0) -> (UInt64, UInt64) where Bytes.Element == UInt8 {
        let data = Array(bytes)
        let c1: UInt64 = 0x87c3_7b91_1142_53d5
        let c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1 = seed
        var h2 = seed
        let blockCount = data.count / 16
        for block in 0..<blockCount {
            let i = block * 16
            var k1 = littleEndian64(data, i)
            var k2 = littleEndian64(data, i + 8)
            k1 = (k1 &* c1).rotatedLeft(31) &* c2
            h1 ^= k1
            h1 = (h1.rotatedLeft(27) &+ h2) &* 5 &+ 0x52dc_e729
            k2 = (k2 &* c2).rotatedLeft(33) &* c1
            h2 ^= k2
            h2 = (h2.rotatedLeft(31) &+ h1) &* 5 &+ 0x3849_5ab5
        }
        let tail = blockCount * 16
        let remainder = data.count & 15
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        if remainder > 8 {
            for j in stride(from: remainder - 1, through: 8, by: -1) {
                k2 ^= UInt64(data[tail + j]) << (UInt64(j - 8) * 8)
            }
            h2 ^= (k2 &* c2).rotatedLeft(33) &* c1
        }
        if remainder > 0 {
            for j in stride(from: min(remainder, 8) - 1, through: 0, by: -1) {
                k1 ^= UInt64(data[tail + j]) << (UInt64(j) * 8)
            }
            h1 ^= (k1 &* c1).rotatedLeft(31) &* c2
        }
        let length = UInt64(data.count)
        h1 ^= length
        h2 ^= length
        h1 = h1 &+ h2
        h2 = h2 &+ h1
        h1 = fmix64(h1)
        h2 = fmix64(h2)
        h1 = h1 &+ h2
        h2 = h2 &+ h1
        return (h1, h2)
    }

    private static func littleEndian64(_ data: [UInt8], _ i: Int) -> UInt64 {
        var value: UInt64 = 0
        for j in 0..<8 { value |= UInt64(data[i + j]) << (UInt64(j) * 8) }
        return value
    }

    private static func fmix32(_ value: UInt32) -> UInt32 {
        var h = value
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    private static func fmix64(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}

extension FixedWidthInteger where Self: UnsignedInteger {
    /// Rotates the bits left by `count` (0 < count < bitWidth).
    fileprivate func rotatedLeft(_ count: Int) -> Self {
        (self << count) | (self >> (Self.bitWidth - count))
    }
}
