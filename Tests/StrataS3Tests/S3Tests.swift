import Foundation
import StrataTesting
import Testing

@testable import StrataS3

/// The S3 client: its signatures against AWS's published example and against botocore (the
/// AWS SDK for Python), then real requests to an S3-compatible server (moto_server from PyPI,
/// which speaks S3's protocol) checked with the AWS CLI: small and multipart objects, odd keys,
/// paged listings, missing objects and buckets, and retries that give up clearly.
@Suite(.serialized) struct S3Tests {
    /// AWS's "GET Object" example of Signature Version 4 (in S3's API reference).
    @Test func signsAWSPublishedExample() {
        let signer = SigV4Signer(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let headers = signer.sign(
            method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!, headers: ["Range": "bytes=0-9"],
            payloadSHA256: SigV4Signer.sha256Hex(Data()), date: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(
            headers["authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    /// botocore signs the same requests (a query, a key with spaces and unicode, a body): the
    /// signatures must be identical.
    @Test func signsLikeBotocore() throws {
        guard (try? runProcess("/usr/bin/env", ["python3", "-c", "import botocore"]).status) == 0 else {
            peerMissing("SKIPPED (botocore): pip install awscli (scripts/install-deps.sh --with-test-peers) to compare signatures with botocore")
            return
        }
        let signer = SigV4Signer(accessKey: "AKIDEXAMPLE", secretKey: "secret/key+example", sessionToken: "token123", region: "eu-west-1")
        let cases: [(String, String, String)] = [
            ("PUT", "http://127.0.0.1:9000/bucket/lake/type%3Dview/date%3D2026-11-30/part%200%20%C3%A9.parquet", "hello"),
            ("GET", "http://127.0.0.1:9000/bucket?list-type=2&max-keys=10&prefix=lake%2Fa%20b", ""),
            ("POST", "http://127.0.0.1:9000/bucket/big.bin?uploads=", ""),
        ]
        for (method, url, body) in cases {
            // botocore signs at its own clock; Strata then signs at the same second.
            let script = """
                import sys, hashlib
                from botocore.auth import S3SigV4Auth
                from botocore.awsrequest import AWSRequest
                from botocore.credentials import Credentials
                method, url, body = sys.argv[1], sys.argv[2], sys.argv[3].encode()
                request = AWSRequest(method=method, url=url, data=body)
                request.headers['X-Amz-Content-SHA256'] = hashlib.sha256(body).hexdigest()
                S3SigV4Auth(Credentials('AKIDEXAMPLE', 'secret/key+example', 'token123'), 's3', 'eu-west-1').add_auth(request)
                print(request.headers['X-Amz-Date'])
                print(request.headers['Authorization'])
                """
            let (status, output, errors) = try runProcess("/usr/bin/env", ["python3", "-c", script, method, url, body])
            #expect(status == 0, "\(errors)")
            let lines = output.split(separator: "\n").map(String.init)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            let date = try #require(lines.first.flatMap(formatter.date(from:)), "no X-Amz-Date from botocore: \(output)")
            let ours = signer.sign(method: method, url: URL(string: url)!, payloadSHA256: SigV4Signer.sha256Hex(Data(body.utf8)), date: date)
            let theirs = lines.last ?? ""
            #expect(ours["authorization"]?.split(separator: " ").last == theirs.split(separator: " ").last, "\(method) \(url): \(theirs)")
        }
    }

    static let credentials = MotoServer.credentials

    @Test func objectsRoundTripThroughAnS3Server() async throws {
        guard let moto = try MotoServer() else {
            peerMissing("SKIPPED (S3): pip install 'moto[server]' awscli (scripts/install-deps.sh --with-test-peers) to run the S3 suite")
            return
        }
        let endpoint = "http://127.0.0.1:\(moto.port)"
        let client = S3Client(location: try S3Location(url: "s3://strata-test/shop?endpoint=\(endpoint)", environment: Self.credentials), partSize: 5 << 20)

        try await client.createBucket()
        try await client.createBucket()  // again: fine
        // Small objects, odd keys.
        let keys = ["lake/type=view/date=2026-11-30/part-0.parquet", "blobs/ab/cdef", "odd/a b+c é.bin"]
        for (index, key) in keys.enumerated() { try await client.put(key, Data("object \(index)".utf8)) }
        for (index, key) in keys.enumerated() { #expect(try await client.get(key) == Data("object \(index)".utf8)) }
        #expect(try await client.get("missing") == nil)
        // A multipart upload (12 MiB in 5 MiB parts).
        // Pseudo-random bytes (an LCG: quick even in a debug build).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var words = [UInt64](repeating: 0, count: (12 << 20) / 8)
        for index in words.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            words[index] = state
        }
        let big = words.withUnsafeBytes { Data($0) }
        try await client.put("big.bin", big)
        #expect(try await client.get("big.bin") == big)
        // Listings page by page.
        for index in 0..<25 { try await client.put("many/\(String(format: "%03d", index))", Data([UInt8(index)])) }
        let many = try await client.list(prefix: "many/", pageSize: 10)
        #expect(many == (0..<25).map { "many/" + String(format: "%03d", $0) })
        #expect(Set(try await client.list()).isSuperset(of: Set(keys + ["big.bin"])))
        try await client.delete("blobs/ab/cdef")
        #expect(try await client.get("blobs/ab/cdef") == nil)
        // The AWS CLI sees the same objects with the same bytes.
        if let aws = executableInPath("aws") {
            let environment = Self.credentials.map { "\($0.key)=\($0.value)" }
            let listing = try runProcess("/usr/bin/env", environment + [aws, "--endpoint-url", endpoint, "s3", "ls", "s3://strata-test/shop/", "--recursive"])
            #expect(listing.status == 0, "\(listing.errors)")
            #expect(listing.output.contains("shop/odd/a b+c é.bin") && listing.output.contains("shop/big.bin"))
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let copy = try runProcess(
                "/usr/bin/env", environment + [aws, "--endpoint-url", endpoint, "s3", "cp", "s3://strata-test/shop/big.bin", directory.file("big.bin")])
            #expect(copy.status == 0, "\(copy.errors)")
            #expect(FileManager.default.contents(atPath: directory.file("big.bin")) == big)
        } else {
            peerMissing("SKIPPED (AWS CLI): pip install awscli to check the objects with it")
        }
        // A bucket that does not exist: the service's error, named.
        let nowhere = S3Client(location: try S3Location(url: "s3://no-such-bucket?endpoint=\(endpoint)", environment: Self.credentials))
        await #expect(throws: S3Error.self) { try await nowhere.put("x", Data([1])) }
    }

    /// The bucket's blob store passes the conformance suite every blob store runs; bytes damaged
    /// in the bucket are refused even with a good copy gone from the local cache.
    @Test func theBucketBlobStoreConforms() async throws {
        guard let moto = try MotoServer() else {
            peerMissing("SKIPPED (S3): pip install 'moto[server]' awscli (scripts/install-deps.sh --with-test-peers) to run the S3 suite")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let client = S3Client(location: try S3Location(url: "s3://strata-blobs/shop?endpoint=http://127.0.0.1:\(moto.port)", environment: Self.credentials))
        try await client.createBucket()
        let store = S3BlobStore(client: client, cacheDirectory: directory.file("cache"))
        try await BlobStoreConformance.check(store) { hash in
            try await client.put(store.key(hash), Data("not what was stored".utf8))
            if let cached = store.cachePath(hash) { try? FileManager.default.removeItem(atPath: cached) }
        }
    }

    @Test func anUnreachableServiceFailsClearlyAfterRetries() async throws {
        let port = LocalPorts.free()
        let client = S3Client(location: try S3Location(url: "s3://b?endpoint=http://127.0.0.1:\(port)", environment: Self.credentials), attempts: 2)
        do {
            _ = try await client.get("x")
            Issue.record("expected an error")
        } catch S3Error.unreachable(let detail) {
            #expect(detail.contains("after 2 attempts"))
        }
        #expect(throws: S3Error.self) { try S3Location(url: "s3://bucket", environment: [:]) }
        #expect(throws: S3Error.self) { try S3Location(url: "http://bucket", environment: Self.credentials) }
    }
}
