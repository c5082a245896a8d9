import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PNG decoded to its pixels, enough to tell a screenshot from a blank one: 8-bit grey, RGB
/// or RGBA, not interlaced (what browsers write). zlib's `uncompress` is taken from the
/// `libz` every Linux system has (Foundation links it), opened at run time.
public struct PNGImage: Equatable {
    public var width: Int
    public var height: Int
    /// Bytes per pixel: 1 (grey), 3 (RGB) or 4 (RGBA).
    public var channels: Int
    /// Row-major pixels, `channels` bytes each, unfiltered.
    public var pixels: [UInt8]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(contentsOf url: URL) throws {
        try self.init(data: [UInt8](try Data(contentsOf: url)))
    }

    public init(data bytes: [UInt8]) throws {
        guard bytes.count > 8, bytes.prefix(8).elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure(description: "not a PNG file")
        }
        func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8
        var compressed: [UInt8] = []
        var header: (width: Int, height: Int, depth: UInt8, type: UInt8, interlace: UInt8)?
        while offset + 8 <= bytes.count {
            let length = word(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let start = offset + 8
            guard start + length <= bytes.count else { throw Failure(description: "chunk \(type) runs past the end") }
            switch type {
            case "IHDR": header = (word(start), word(start + 4), bytes[start + 8], bytes[start + 9], bytes[start + 12])
            case "IDAT": compressed += bytes[start..<(start + length)]
            default: break
            }
            if type == "IEND" { break }
            offset = start + length + 4
        }
        guard let header else { throw Failure(description: "no IHDR chunk") }
        guard header.depth == 8, header.interlace == 0 else { throw Failure(description: "only 8-bit, non-interlaced PNGs are read") }
        let channels: Int
        switch header.type {
        case 0: channels = 1
        case 2: channels = 3
        case 6: channels = 4
        default: throw Failure(description: "colour type \(header.type) is not read")
        }
        let stride = header.width * channels
        let raw = try PNGImage.inflate(compressed, size: (stride + 1) * header.height)
        var pixels = [UInt8](repeating: 0, count: stride * header.height)
        for row in 0..<header.height {
            let filter = raw[row * (stride + 1)]
            let line = row * (stride + 1) + 1
            for i in 0..<stride {
                let x = Int(raw[line + i])
                let a = i >= channels ? Int(pixels[row * stride + i - channels]) : 0
                let b = row > 0 ? Int(pixels[(row - 1) * stride + i]) : 0
                let c = row > 0 && i >= channels ? Int(pixels[(row - 1) * stride + i - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Failure(description: "unknown filter \(filter) in row \(row)")
                }
                pixels[row * stride + i] = UInt8((x + predicted) & 0xFF)
            }
        }
        self.init(width: header.width, height: header.height, channels: channels, pixels: pixels)
    }

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// How many distinct colours the image holds (the alpha channel ignored), counted up to `limit`.
    public func distinctColours(limit: Int = 1000) -> Int {
        var seen = Set<UInt32>()
        let colourChannels = min(channels, 3)
        for p in Swift.stride(from: 0, to: pixels.count, by: channels) {
            var key: UInt32 = 0
            for k in 0..<colourChannels { key = key << 8 | UInt32(pixels[p + k]) }
            if seen.insert(key).inserted, seen.count >= limit { break }
        }
        return seen.count
    }

    /// How many pixels have a colour within `tolerance` of `colour` in each of red, green and blue.
    public func count(near colour: (Int, Int, Int), tolerance: Int = 20) -> Int {
        guard channels >= 3 else { return 0 }
        var count = 0
        for p in Swift.stride(from: 0, to: pixels.count, by: channels)
        where abs(Int(pixels[p]) - colour.0) <= tolerance && abs(Int(pixels[p + 1]) - colour.1) <= tolerance && abs(Int(pixels[p + 2]) - colour.2) <= tolerance {
            count += 1
        }
        return count
    }

    /// The share of pixels (0…1) whose colour differs from the most common one.
    public var shareOffBackground: Double {
        var counts: [UInt32: Int] = [:]
        let colourChannels = min(channels, 3)
        for p in Swift.stride(from: 0, to: pixels.count, by: channels) {
            var key: UInt32 = 0
            for k in 0..<colourChannels { key = key << 8 | UInt32(pixels[p + k]) }
            counts[key, default: 0] += 1
        }
        let total = max(1, pixels.count / channels)
        return Double(total - (counts.values.max() ?? 0)) / Double(total)
    }

    typealias Uncompress = @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?,
                                           UnsafePointer<UInt8>?, UInt) -> Int32

    /// zlib's `uncompress` of `data` into exactly `size` bytes.
    static func inflate(_ data: [UInt8], size: Int) throws -> [UInt8] {
        guard let library = dlopen("libz.so.1", RTLD_NOW) ?? dlopen("libz.so", RTLD_NOW),
              let symbol = dlsym(library, "uncompress") else {
            throw Failure(description: "zlib (libz.so.1) cannot be opened")
        }
        let uncompress = unsafeBitCast(symbol, to: Uncompress.self)
        var out = [UInt8](repeating: 0, count: size)
        var length = UInt(size)
        let status = out.withUnsafeMutableBufferPointer { target in
            data.withUnsafeBufferPointer { source in
                uncompress(target.baseAddress, &length, source.baseAddress, UInt(source.count))
            }
        }
        guard status == 0, length == UInt(size) else {
            throw Failure(description: "zlib could not inflate the image data (status \(status), \(length) of \(size) bytes)")
        }
        return out
    }
}
