// Cloud commands: `infc deploy FILE --stack NAME` — check, build the AWS template and the code package,
// then deploy them (InfcDeploy's `Deployer`); `infc destroy --stack NAME` — delete the stack. AWS
// settings come from the standard places (environment, shared credentials and config files,
// `--profile`), with `--region` and `--endpoint` winning.
import Foundation
import InfcCommandLine
import InfcAWS
import InfcCompiler
import InfcDeploy
import InfcHTTPClient
import InfcRuntime

/// The AWS flags every cloud command takes, and the client they configure.
struct AWSCommandSettings {
    static let valueFlags: [String: [String]] = ["--stack": [], "--region": [], "--endpoint": [], "--profile": []]

    let stack: String
    let client: AWSClient

    init(_ args: Arguments, command: String) throws {
        guard let stack = args.values["--stack"] else {
            throw CLIError("infc \(command) needs --stack NAME (the CloudFormation stack); see 'infc help \(command)'")
        }
        guard Self.isStackName(stack) else {
            throw CLIError("'\(stack)' is not a stack name: a letter, then letters, digits and '-', at most 128 characters")
        }
        self.stack = stack
        var environment = ProcessInfo.processInfo.environment
        if let profile = args.values["--profile"] {
            environment["AWS_PROFILE"] = profile
            // A named profile means its keys, not the environment's.
            environment["AWS_ACCESS_KEY_ID"] = nil
            environment["AWS_SECRET_ACCESS_KEY"] = nil
            environment["AWS_SESSION_TOKEN"] = nil
        }
        let settings: AWSEnvironment
        do {
            settings = try AWSEnvironment.resolve(environment: environment, readFile: { path in
                FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
            }, regionOverride: args.values["--region"], endpointOverride: args.values["--endpoint"])
        } catch {
            throw CLIError(error.description + (error.description.hasPrefix("no AWS region") ? ", or pass --region" : ""))
        }
        client = AWSClient(environment: settings, transport: HTTPClient(environment: environment))
    }

    /// CloudFormation's stack names: `[A-Za-z][-A-Za-z0-9]*`, at most 128 characters.
    static func isStackName(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 128, (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A else { return false }
        return s.utf8.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || $0 >= 0x30 && $0 <= 0x39 || $0 == 0x2D }
    }

    func deployer() -> Deployer {
        Deployer(client: client, say: { line in
            print(line)
            fflush(nil)
        }, sleep: { seconds in usleep(UInt32(seconds * 1_000_000)) }, now: { Int(time(nil)) })
    }
}

struct DeployCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        var flags = AWSCommandSettings.valueFlags
        flags.merge(["--bucket": [], "--bootstrap": [], "--secrets": [], "--max-resources": [], "--color": []]) { a, _ in a }
        let args = try Arguments(arguments, command: "deploy", valueFlags: flags, boolFlags: ["-q", "--quiet"])
        guard args.positionals.count == 1 else { throw CLIError("usage: infc deploy FILE --stack NAME [--region R] [--endpoint URL] [--profile P]") }
        // Settings first: a missing credential or region is found before any work.
        let aws = try AWSCommandSettings(args, command: "deploy")
        let bootstrap = try LambdaBootstrap.load(args.values["--bootstrap"])
        let secretValues = try args.values["--secrets"].map(Self.secretValues)
        let c = try CheckedCompilation(path: args.positionals[0], args: args, quietWarnings: true).compilation
        let output = CloudFormationEmitter.emit(c)
        if !output.errors.isEmpty {
            for e in output.errors { Terminal.stderr("error: \(e)\n") }
            throw CLIError("\(c.file.path) cannot be built for AWS", code: ExitCode.diagnostics)
        }
        for w in output.warnings { Terminal.stderr("warning: \(w)\n") }
        if let values = secretValues, let path = args.values["--secrets"] {
            let unused = Self.unmatchedKeys(values, secrets: c.plan.secrets.map(\.text))
            if !unused.isEmpty {
                // Names only: a typo'd key would otherwise leave its secret unset without a word.
                Terminal.stderr("warning: --secrets \(path): \(unused.joined(separator: ", ")) \(unused.count == 1 ? "names" : "name") no secret of \(c.plan.app) (ignored); its secrets are \(c.plan.secrets.isEmpty ? "none" : c.plan.secrets.map { "INFC_SECRET_" + $0.text.uppercased() }.joined(separator: ", "))\n")
            }
        }
        let template = CloudFormationEmitter.files(output)[0].bytes
        let package = try LambdaBootstrap.package(c, bootstrap: bootstrap)
        print("built \(c.plan.app): template (\(c.plan.budget.total) resources), package \(package.sha256.prefix(16)) (\(Deployer.size(package.zip.count)))")
        let request = DeployRequest(
            stack: aws.stack, app: c.plan.app, template: template, resourceCount: c.plan.budget.total, package: package,
            bucket: args.values["--bucket"], secrets: c.plan.secrets.map(\.text),
            secretValues: secretValues.map { values in
                Dictionary(uniqueKeysWithValues: c.plan.secrets.map(\.text).compactMap { name in
                    (values["INFC_SECRET_" + name.uppercased()] ?? values[name]).map { (name, $0) }
                })
            })
        do {
            try aws.deployer().deploy(request)
        } catch {
            throw CLIError(error.description, code: error.stackFailed ? ExitCode.diagnostics : ExitCode.usage)
        }
        return ExitCode.ok
    }

    /// The `.env` keys that set no declared secret (neither `INFC_SECRET_NAME` nor `NAME`), sorted.
    static func unmatchedKeys(_ values: [String: String], secrets: [String]) -> [String] {
        let known = Set(secrets.flatMap { ["INFC_SECRET_" + $0.uppercased(), $0] })
        return values.keys.filter { !known.contains($0) }.sorted()
    }

    /// The `.env` file's keys and values (read as `infc run` reads `.env`); never printed.
    static func secretValues(_ path: String) throws -> [String: String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError("--secrets \(path) is not a file; pass a .env file of NAME=value lines")
        }
        guard FileManager.default.isReadableFile(atPath: path) else { throw CLIError("cannot read \(path); check its permissions") }
        return SecretSource.parseDotEnv(atPath: path)
    }
}

struct DestroyCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "destroy", valueFlags: AWSCommandSettings.valueFlags)
        guard args.positionals.isEmpty else { throw CLIError("usage: infc destroy --stack NAME [--region R] [--endpoint URL] [--profile P]") }
        let aws = try AWSCommandSettings(args, command: "destroy")
        do {
            try aws.deployer().destroy(stack: aws.stack)
        } catch {
            throw CLIError(error.description, code: error.stackFailed ? ExitCode.diagnostics : ExitCode.usage)
        }
        return ExitCode.ok
    }
}
