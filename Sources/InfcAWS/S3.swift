// AWS: S3 over REST-XML — GetObject, PutObject, DeleteObject and ListObjectsV2 (every page); for a
// deployment's artifact bucket HeadBucket, CreateBucket and HeadObject. Bodies byte for byte, signed with the payload's SHA-256 in `X-Amz-Content-SHA256`. Buckets are
// addressed virtual-host style on AWS and path style on an overridden endpoint (an emulator).
import InfcHTTPClient

public struct S3: Sendable {
    let client: AWSClient
    public init(_ client: AWSClient) { self.client = client }

    /// The URL of `key` in `bucket` (the key's `/` kept, everything else encoded), with `query`.
    static func url(_ endpoint: HTTPURL, overridden: Bool, bucket: String, key: String?, query: [(String, String)] = []) -> HTTPURL {
        var url = endpoint
        let encodedKey = key.map { PercentEncoding.encode($0, safe: "/~") }
        let base = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let virtualHost = !overridden && !bucket.contains(".")
        if virtualHost {
            url.host = "\(bucket).\(endpoint.host)"
            url.path = base + "/" + (encodedKey ?? "")
        } else {
            url.path = base + "/" + PercentEncoding.encode(bucket) + (encodedKey.map { "/" + $0 } ?? "")
        }
        url.query = PercentEncoding.query(query)
        return url
    }

    func request(_ operation: String, method: String, bucket: String, key: String?, query: [(String, String)] = [],
                 headers: [(String, String)] = [], body: [UInt8] = []) throws(AWSError) -> HTTPResponse {
        try client.call(.s3, operation) { endpoint, overridden in
            HTTPRequest(method: method, url: Self.url(endpoint, overridden: overridden, bucket: bucket, key: key, query: query),
                        headers: HTTPHeaders(headers), body: body)
        }
    }

    /// The object's bytes; nil when there is no such key.
    public func getObject(bucket: String, key: String) throws(AWSError) -> [UInt8]? {
        do {
            return try request("GetObject", method: "GET", bucket: bucket, key: key).body
        } catch where error.code == "NoSuchKey" || (error.status == 404 && error.code == "NotFound") {
            return nil
        }
    }

    /// An object with what was stored beside its bytes.
    public struct Object: Sendable, Equatable {
        public var body: [UInt8]
        public var contentType: String?
        /// User metadata (`x-amz-meta-NAME`), names in lower case without the prefix.
        public var metadata: [String: String]
    }

    /// The object with its content type and user metadata; nil when there is no such key.
    public func getObjectWithMetadata(bucket: String, key: String) throws(AWSError) -> Object? {
        let response: HTTPResponse
        do {
            response = try request("GetObject", method: "GET", bucket: bucket, key: key)
        } catch where error.code == "NoSuchKey" || (error.status == 404 && error.code == "NotFound") {
            return nil
        }
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(name.lowercased().dropFirst("x-amz-meta-".count))] = value
        }
        return Object(body: response.body, contentType: response.headers["Content-Type"], metadata: metadata)
    }

    /// Stores `body` under `key` with its content type and user metadata (`x-amz-meta-NAME`).
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String = "application/octet-stream",
                          metadata: [(String, String)] = []) throws(AWSError) {
        _ = try request("PutObject", method: "PUT", bucket: bucket, key: key,
                        headers: [("Content-Type", contentType)] + metadata.map { ("x-amz-meta-\($0.0)", $0.1) }, body: body)
    }

    public func deleteObject(bucket: String, key: String) throws(AWSError) {
        _ = try request("DeleteObject", method: "DELETE", bucket: bucket, key: key)
    }

    /// Whether the bucket exists and these credentials may use it; throws for any other answer
    /// (a 403: it exists but belongs to someone else, or the credentials lack `s3:ListBucket`).
    public func bucketExists(_ bucket: String) throws(AWSError) -> Bool {
        do {
            _ = try request("HeadBucket", method: "HEAD", bucket: bucket, key: nil)
            return true
        } catch where error.status == 404 {
            return false
        }
    }

    /// Creates the bucket in the client's region (us-east-1 takes no location constraint).
    public func createBucket(_ bucket: String) throws(AWSError) {
        let region = client.environment.region
        let body = region == "us-east-1" ? [] : Array("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
        _ = try request("CreateBucket", method: "PUT", bucket: bucket, key: nil, headers: body.isEmpty ? [] : [("Content-Type", "application/xml")], body: body)
    }

    /// Whether the object exists (HEAD, so nothing is downloaded).
    public func objectExists(bucket: String, key: String) throws(AWSError) -> Bool {
        do {
            _ = try request("HeadObject", method: "HEAD", bucket: bucket, key: key)
            return true
        } catch where error.status == 404 {
            return false
        }
    }

    /// The object's AWS URL, as CloudFormation's `TemplateURL` takes it: CloudFormation fetches
    /// it itself, so it is S3's regional address whatever endpoint this client talks to.
    public func awsObjectURL(bucket: String, key: String) -> String {
        let region = client.environment.region
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return Self.url(HTTPURL(scheme: .https, host: "s3.\(region).\(suffix)"), overridden: false, bucket: bucket, key: key).description
    }

    public struct ObjectSummary: Sendable, Equatable {
        public var key: String
        public var size: Int
        public var etag: String
    }

    /// One page of keys under `prefix`, and the continuation token of the next (nil on the last).
    public func listObjectsPage(bucket: String, prefix: String = "", maxKeys: Int? = nil,
                                continuationToken: String? = nil) throws(AWSError) -> (objects: [ObjectSummary], next: String?) {
        var query: [(String, String)] = [("list-type", "2")]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        let response = try request("ListObjectsV2", method: "GET", bucket: bucket, key: nil, query: query)
        guard let xml = XMLElement.parse(response.body), xml.name == "ListBucketResult" else {
            throw AWSError(service: "s3", operation: "ListObjectsV2", code: "MalformedResponse", message: "the answer is not a ListBucketResult", status: response.status)
        }
        let objects = xml.all("Contents").map {
            ObjectSummary(key: $0.first("Key")?.text ?? "", size: Int($0.first("Size")?.text ?? "") ?? 0, etag: $0.first("ETag")?.text ?? "")
        }
        let truncated = xml.first("IsTruncated")?.text == "true"
        return (objects, truncated ? xml.first("NextContinuationToken")?.text : nil)
    }

    /// Every key under `prefix`, page after page.
    public func listObjects(bucket: String, prefix: String = "", pageSize: Int? = nil) throws(AWSError) -> [ObjectSummary] {
        var all: [ObjectSummary] = []
        var token: String?
        repeat {
            let page = try listObjectsPage(bucket: bucket, prefix: prefix, maxKeys: pageSize, continuationToken: token)
            all += page.objects
            token = page.next
        } while token != nil
        return all
    }
}
