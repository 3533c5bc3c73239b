import Foundation
import Logging
import StrataCore

/// Opening a log directory after a clean stop or a crash.
enum LogRecovery {
    struct Recovered {
        var segments: [SegmentInfo]
        var endOffset: Int64
        var activeFD: Int32
        var activeSize: Int
    }

    static func segmentPath(directory: String, base: Int64) -> String {
        let digits = String(base)
        return "\(directory)/\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).log"
    }

    /// Segment files in `directory`, by base offset.
    static func segmentFiles(directory: String) -> [(base: Int64, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int64, String)? in
            guard name.hasSuffix(".log"), name.count == 24, let base = Int64(name.prefix(20)) else { return nil }
            return (base, "\(directory)/\(name)")
        }.sorted { $0.0 < $1.0 }
    }

    static func recover(directory: String, logger: Logger) throws(StrataError) -> Recovered {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StrataError(.unavailable, code: "data_dir_unwritable", "cannot create the log directory \(directory): \(error.localizedDescription)")
        }
        var files = segmentFiles(directory: directory)
        if files.isEmpty {
            let path = segmentPath(directory: directory, base: 0)
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw StrataError(.unavailable, code: "data_dir_unwritable", "cannot create \(path)")
            }
            syncDirectory(directory)
            files = [(0, path)]
        }
        var segments: [SegmentInfo] = []
        for (index, file) in files.enumerated() {
            let end = index + 1 < files.count ? files[index + 1].base : file.base
            let modified = (try? FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date)?.map {
                Int64($0.timeIntervalSince1970 * 1000)
            }
            segments.append(
                SegmentInfo(
                    baseOffset: file.base, endOffset: end, path: file.path, isClosed: index + 1 < files.count, firstWriteMillis: modified,
                    lastWriteMillis: modified))
        }
        let active = files[files.count - 1]
        let fd = open(active.path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw StrataError(.unavailable, code: "data_dir_unwritable", "cannot open \(active.path): \(String(cString: strerror(errno)))")
        }
        let (count, validSize, fileSize) = try scanValidPrefix(fd: fd, path: active.path)
        if validSize < fileSize {
            logger.warning(
                "truncated a torn or corrupt tail of the event log (a crash interrupted a write; those records were never acknowledged)",
                metadata: ["segment": "\(active.path)", "kept_bytes": "\(validSize)", "dropped_bytes": "\(fileSize - validSize)"])
            guard ftruncate(fd, off_t(validSize)) == 0, fsync(fd) == 0 else {
                close(fd)
                throw StrataError(.unavailable, code: "log_recovery_failed", "cannot truncate the torn tail of \(active.path)")
            }
        }
        if count == 0 {
            segments[segments.count - 1].firstWriteMillis = nil
            segments[segments.count - 1].lastWriteMillis = nil
        }
        let end = active.base + Int64(count)
        segments[segments.count - 1].endOffset = end
        return Recovered(segments: segments, endOffset: end, activeFD: fd, activeSize: validSize)
    }

    /// Counts the intact records at the start of a segment: stops at the first frame that is
    /// incomplete, implausibly long or fails its checksum.
    static func scanValidPrefix(fd: Int32, path: String) throws(StrataError) -> (count: Int, validSize: Int, fileSize: Int) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StrataError(.unavailable, code: "log_recovery_failed", "cannot stat \(path)") }
        let fileSize = Int(info.st_size)
        var reader = SegmentFileReader(fd: fd, fileSize: fileSize, position: 0)
        var count = 0
        while let frame = reader.nextFrame() {
            if !frame.valid { break }
            count += 1
        }
        return (count, reader.validEnd, fileSize)
    }

    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
