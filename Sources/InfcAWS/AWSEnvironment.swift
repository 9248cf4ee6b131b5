// AWS: where a client's settings come from, as the AWS SDKs find them — credentials from the
// environment or the shared credentials and config files (profile from `AWS_PROFILE`), the region
// from `AWS_REGION`, and endpoints from `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`.
// Pure: the environment and a file reader are arguments.
import InfcHTTPClient

/// One AWS service as the clients address it.
public struct AWSService: Sendable, Equatable {
    /// The endpoint prefix: `dynamodb` in `dynamodb.us-east-1.amazonaws.com`.
    public var endpointPrefix: String
    /// The SigV4 signing name.
    public var signingName: String
    /// The suffix of `AWS_ENDPOINT_URL_<SERVICE>`: the SDKs' service id, uppercased, `_` for spaces.
    public var environmentName: String

    public static let dynamoDB = AWSService(endpointPrefix: "dynamodb", signingName: "dynamodb", environmentName: "DYNAMODB")
    public static let s3 = AWSService(endpointPrefix: "s3", signingName: "s3", environmentName: "S3")
    public static let sns = AWSService(endpointPrefix: "sns", signingName: "sns", environmentName: "SNS")
    public static let sqs = AWSService(endpointPrefix: "sqs", signingName: "sqs", environmentName: "SQS")
    public static let stepFunctions = AWSService(endpointPrefix: "states", signingName: "states", environmentName: "SFN")
    public static let secretsManager = AWSService(endpointPrefix: "secretsmanager", signingName: "secretsmanager", environmentName: "SECRETS_MANAGER")
    public static let cloudFormation = AWSService(endpointPrefix: "cloudformation", signingName: "cloudformation", environmentName: "CLOUDFORMATION")
    public static let sts = AWSService(endpointPrefix: "sts", signingName: "sts", environmentName: "STS")
}

/// Why a client cannot be configured.
public struct AWSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A client's settings: credentials, region and endpoint overrides.
public struct AWSEnvironment: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    /// `AWS_ENDPOINT_URL`, when set.
    public var endpointURL: HTTPURL?
    /// `AWS_ENDPOINT_URL_<SERVICE>`, by service environment name.
    public var serviceEndpointURLs: [String: HTTPURL]
    /// Attempts per call (`AWS_MAX_ATTEMPTS`, default 3, as the SDKs' standard retry mode).
    public var maxAttempts: Int

    public init(credentials: AWSCredentials, region: String, endpointURL: HTTPURL? = nil,
                serviceEndpointURLs: [String: HTTPURL] = [:], maxAttempts: Int = 3) {
        self.credentials = credentials
        self.region = region
        self.endpointURL = endpointURL
        self.serviceEndpointURLs = serviceEndpointURLs
        self.maxAttempts = maxAttempts
    }

    /// Reads the settings from `environment` and, through `readFile`, the shared files
    /// (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, `AWS_CONFIG_FILE` or `~/.aws/config`).
    /// `regionOverride` and `endpointOverride` (a command's `--region`, `--endpoint`) win.
    public static func resolve(environment: [String: String], readFile: (String) -> String?,
                               regionOverride: String? = nil, endpointOverride: String? = nil) throws(AWSConfigurationError) -> AWSEnvironment {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let home = value("HOME") ?? "~"
        let profile = value("AWS_PROFILE") ?? value("AWS_DEFAULT_PROFILE") ?? "default"
        let credentialsPath = value("AWS_SHARED_CREDENTIALS_FILE") ?? "\(home)/.aws/credentials"
        let configPath = value("AWS_CONFIG_FILE") ?? "\(home)/.aws/config"
        let credentialsFile = readFile(credentialsPath).map(INIFile.parse) ?? [:]
        let configFile = readFile(configPath).map(INIFile.parse) ?? [:]
        let configSection = configFile[profile == "default" ? "default" : "profile \(profile)"] ?? configFile[profile] ?? [:]

        let credentials: AWSCredentials
        if let id = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        } else if let section = credentialsFile[profile], let id = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] {
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: section["aws_session_token"])
        } else if let id = configSection["aws_access_key_id"], let secret = configSection["aws_secret_access_key"] {
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: configSection["aws_session_token"])
        } else {
            throw AWSConfigurationError("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile `\(profile)` to \(credentialsPath)")
        }
        guard let region = regionOverride ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? configSection["region"] else {
            throw AWSConfigurationError("no AWS region: set AWS_REGION (or `region` in profile `\(profile)` of \(configPath))")
        }
        guard region.utf8.allSatisfy({ PercentEncoding.isUnreserved($0) }), !region.isEmpty else {
            throw AWSConfigurationError("`\(region)` is not an AWS region name")
        }
        func url(_ text: String, _ name: String) throws(AWSConfigurationError) -> HTTPURL {
            guard let u = HTTPURL(string: text), u.query.isEmpty else {
                throw AWSConfigurationError("\(name)=\(text) is not an http:// or https:// URL")
            }
            return u
        }
        var env = AWSEnvironment(credentials: credentials, region: region)
        let ignore = value("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
        if let endpointOverride {
            env.endpointURL = try url(endpointOverride, "--endpoint")
        } else if !ignore {
            if let e = value("AWS_ENDPOINT_URL") ?? configSection["endpoint_url"] { env.endpointURL = try url(e, "AWS_ENDPOINT_URL") }
            for (name, text) in environment where name.hasPrefix("AWS_ENDPOINT_URL_") && !text.isEmpty {
                env.serviceEndpointURLs[String(name.dropFirst("AWS_ENDPOINT_URL_".count))] = try url(text, name)
            }
        }
        if let attempts = value("AWS_MAX_ATTEMPTS") {
            guard let n = Int(attempts), n >= 1, n <= 20 else { throw AWSConfigurationError("AWS_MAX_ATTEMPTS=\(attempts) is not a number from 1 to 20") }
            env.maxAttempts = n
        }
        return env
    }

    /// The base URL of `service`: its own override, the global one, or AWS's regional endpoint.
    public func endpoint(for service: AWSService) -> (url: HTTPURL, overridden: Bool) {
        if let u = serviceEndpointURLs[service.environmentName] ?? endpointURL { return (u, true) }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return (HTTPURL(scheme: .https, host: "\(service.endpointPrefix).\(region).\(suffix)"), false)
    }
}

/// The AWS shared files' INI dialect: `[section]`, `key = value`, `#` and `;` comments.
enum INIFile {
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = String(raw).trimmingCharacters(in: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = String(line.dropFirst().dropLast()).trimmingCharacters(in: { $0 == " " || $0 == "\t" })
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).trimmingCharacters(in: { $0 == " " || $0 == "\t" }).lowercased()
            let value = String(line[line.index(after: eq)...]).trimmingCharacters(in: { $0 == " " || $0 == "\t" })
            sections[section, default: [:]][key] = value
        }
        return sections
    }
}
