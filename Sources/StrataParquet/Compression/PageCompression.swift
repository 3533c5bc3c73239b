import CSnappy
import CZlib
import CZstd

/// Page compression through the Debian C libraries (zstd, snappy, zlib).
enum PageCompression {
    /// Largest page this reader inflates; a header claiming more is treated as corrupt.
    static let maxPageBytes = 512 << 20

    static func compress(_ input: [UInt8], codec: CompressionCodec) throws(ParquetError) -> [UInt8] {
        switch codec {
        case .uncompressed:
            return input
        case .zstd:
            var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
            let written = input.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, 3) }
            }
            guard ZSTD_isError(written) == 0 else { throw .invalidArgument("zstd compression failed") }
            output.removeSubrange(written...)
            return output
        case .snappy:
            var capacity = snappy_max_compressed_length(input.count)
            var output = [UInt8](repeating: 0, count: capacity)
            let status = input.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in
                    snappy_compress(
                        src.baseAddress?.assumingMemoryBound(to: CChar.self), src.count, dst.baseAddress?.assumingMemoryBound(to: CChar.self), &capacity)
                }
            }
            guard status == SNAPPY_OK else { throw .invalidArgument("snappy compression failed") }
            output.removeSubrange(capacity...)
            return output
        default:
            throw .unsupported("writing \(codec) pages")
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, codec: CompressionCodec, uncompressedSize: Int) throws(ParquetError) -> [UInt8] {
        guard uncompressedSize >= 0, uncompressedSize <= maxPageBytes else { throw .corrupt("page claims \(uncompressedSize) uncompressed bytes") }
        switch codec {
        case .uncompressed:
            return Array(input)
        case .zstd:
            var output = [UInt8](repeating: 0, count: uncompressedSize)
            let written = output.withUnsafeMutableBytes { dst in ZSTD_decompress(dst.baseAddress, dst.count, input.baseAddress, input.count) }
            guard ZSTD_isError(written) == 0, written == uncompressedSize else { throw .corrupt("zstd page does not decompress to its stated size") }
            return output
        case .snappy:
            var length = 0
            let source = input.baseAddress?.assumingMemoryBound(to: CChar.self)
            guard snappy_uncompressed_length(source, input.count, &length) == SNAPPY_OK, length == uncompressedSize else {
                throw .corrupt("snappy page does not decompress to its stated size")
            }
            var output = [UInt8](repeating: 0, count: length)
            let status = output.withUnsafeMutableBytes { dst in
                snappy_uncompress(source, input.count, dst.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
            }
            guard status == SNAPPY_OK else { throw .corrupt("snappy page is damaged") }
            return output
        case .gzip:
            return try inflate(input, expected: uncompressedSize)
        default:
            throw .unsupported("\(codec) compression (Strata reads uncompressed, snappy, gzip and zstd pages)")
        }
    }

    private static func inflate(_ input: UnsafeRawBufferPointer, expected: Int) throws(ParquetError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expected)
        var stream = z_stream()
        // 15 + 32: accept both zlib and gzip headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw .corrupt("zlib init failed") }
        defer { inflateEnd(&stream) }
        let status: Int32 = output.withUnsafeMutableBytes { dst in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(dst.count)
            return CZlib.inflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == expected else { throw .corrupt("gzip page does not decompress to its stated size") }
        return output
    }
}
