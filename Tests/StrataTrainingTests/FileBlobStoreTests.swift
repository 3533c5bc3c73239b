import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

@testable import StrataTraining

/// The project folder's blob store passes the conformance suite every blob store runs.
@Suite struct FileBlobStoreTests {
    @Test func theFolderStoreConforms() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = FileBlobStore(root: directory.file("blobs"))
        try await BlobStoreConformance.check(store) { hash in
            try AtomicFile.write(Array("not what was stored".utf8), to: store.path(hash))
        }
    }
}
