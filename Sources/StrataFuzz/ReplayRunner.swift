import Foundation

/// A normal (not fuzzing) build's mode: runs the target once over each file, so the seed corpus
/// and any saved crash inputs are regression tests without libFuzzer.
enum ReplayRunner {
    static func replay(paths: [String]) -> Int32 {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("strata-fuzz: no such file or folder: \(path)\n".utf8))
                return 2
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { ActiveTarget.run($0) }
        }
        print("replayed \(files.count) inputs")
        return 0
    }
}
