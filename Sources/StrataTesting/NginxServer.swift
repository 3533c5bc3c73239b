import Foundation

/// Debian's nginx (installed by `scripts/install-deps.sh --with-test-peers`) as a load
/// balancer in front of local replicas, configured like `deploy/nginx/strata.conf`: a failed
/// or refused connection moves the request to the next replica (POSTs included: event ids make
/// retried batches safe). Nil where nginx is not installed.
public final class NginxServer: @unchecked Sendable {
    public static var skipMessage: String { "SKIPPED (nginx): install Debian's nginx-light (scripts/install-deps.sh --with-test-peers)" }

    public let port = LocalPorts.free()
    let directory: String
    private var process: Process?

    /// `tls`: terminate TLS with this certificate and key (PEM files), as deploy/nginx does.
    public init?(upstreams: [Int], tls: (certificate: String, key: String)? = nil) throws {
        guard let binary = executableInPath("nginx") else { return nil }
        directory = NSTemporaryDirectory() + "strata-nginx-\(port)"
        try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
        let servers = upstreams.map { "    server 127.0.0.1:\($0) max_fails=1 fail_timeout=3s;" }.joined(separator: "\n")
        let conf = """
            daemon off;
            worker_processes 1;
            error_log \(directory)/logs/error.log warn;
            pid \(directory)/nginx.pid;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path \(directory)/body;
              proxy_temp_path \(directory)/proxy;
              fastcgi_temp_path \(directory)/fastcgi;
              uwsgi_temp_path \(directory)/uwsgi;
              scgi_temp_path \(directory)/scgi;
              upstream strata_api {
            \(servers)
                keepalive 32;
              }
              server {
                listen 127.0.0.1:\(port)\(tls == nil ? "" : " ssl");
            \(tls.map { "    ssl_certificate \($0.certificate);\n    ssl_certificate_key \($0.key);\n    ssl_protocols TLSv1.2 TLSv1.3;" } ?? "")
                client_max_body_size 16m;
                location / {
                  proxy_pass http://strata_api;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_connect_timeout 1s;
                  proxy_read_timeout 300s;  # an API replica may hold a request through a worker fail-over
                  proxy_next_upstream error timeout http_502 non_idempotent;
                  proxy_next_upstream_tries 3;
                }
              }
            }
            """
        try conf.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-c", "\(directory)/nginx.conf", "-p", directory]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Failing here (deinit stops nginx) says what went wrong; carrying on would not.
        try LocalPorts.waitUntilAccepting(port: port, peer: "nginx", process: process)
    }

    /// What nginx logged (upstream failures show there).
    public var errorLog: String { (try? String(contentsOfFile: "\(directory)/logs/error.log", encoding: .utf8)) ?? "" }

    deinit {
        if let process {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
