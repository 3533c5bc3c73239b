import Foundation

/// Where Redis is: `redis://[user:password@]host[:port][/db]` (the form `backends.online` takes).
public struct RedisEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    public init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else {
            throw RedisError.invalidURL(url)
        }
        let path = components.path.drop { $0 == "/" }
        guard path.isEmpty || Int(path) != nil else { throw RedisError.invalidURL(url) }
        self.init(
            host: host, port: components.port ?? 6379, user: components.user.flatMap { $0.isEmpty ? nil : $0 },
            password: components.password?.removingPercentEncoding, database: Int(path) ?? 0)
    }
}
