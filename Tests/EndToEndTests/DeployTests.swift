// End-to-end tests of the AWS target's deployment commands through the real binary: `infc package`
// (a deterministic zip read back by Python's zipfile and `unzip -t`), and `infc deploy` / `infc
// destroy` against the AWS emulator (moto 5.2.6 in server mode on 127.0.0.1), every result read
// back through each service's own API with boto3 (scripts/aws_fixture.py).
//
// The bootstrap is the real `infc-lambda` SwiftPM builds beside infc (the package tests name it
// with --bootstrap, the deploy tests let infc find it there); CloudShopTests runs the static one.
import Foundation
import Glibc
import InfcCompiler
import InfcTestSupport
import Testing

/// The real Lambda bootstrap SwiftPM builds beside `infc` (what `infc package` and `infc deploy`
/// take when no --bootstrap is given).
enum Bootstrap {
    static let besideInfc = Binary.url.deletingLastPathComponent().appendingPathComponent("infc-lambda")

    static func require() throws -> URL {
        try #require(FileManager.default.isExecutableFile(atPath: besideInfc.path), "no infc-lambda beside infc: swift build builds it")
        return besideInfc
    }
}

@Suite struct PackageCommandTests {
    @Test func packageWritesADeterministicZip() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bootstrap = try Bootstrap.require()
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let first = try CLI.run(["package", "examples/shop.inf", "-o", a.path, "--bootstrap", bootstrap.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("packaged shop → \(a.path)/package.zip (bootstrap, code/shop.inf, manifest.json;"), "\(first.stdout)")
        #expect(try CLI.run(["package", "examples/shop.inf", "-o", b.path, "--bootstrap", bootstrap.path, "-q"]).status == 0)
        let x = try Data(contentsOf: a.appendingPathComponent("package.zip"))
        let y = try Data(contentsOf: b.appendingPathComponent("package.zip"))
        #expect(x == y)

        // An independent reader: every CRC, the bootstrap's bytes and mode, the build directory's files.
        let script = """
            import sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            assert z.namelist() == ["bootstrap", "code/shop.inf", "manifest.json"], z.namelist()
            assert z.read("bootstrap") == open(sys.argv[2], "rb").read()
            assert z.getinfo("bootstrap").external_attr >> 16 == 0o100755
            assert z.read("code/shop.inf") == open("examples/shop.inf", "rb").read()
            assert b'"app": "shop"' in z.read("manifest.json")
            """
        if let python = Python.python3 {
            let r = try CLI.run(["-c", script, a.appendingPathComponent("package.zip").path, bootstrap.path], executable: URL(fileURLWithPath: python))
            #expect(r.status == 0, "\(r.stderr)")
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
            let r = try CLI.run(["-t", a.appendingPathComponent("package.zip").path], executable: URL(fileURLWithPath: "/usr/bin/unzip"))
            #expect(r.status == 0 && r.stdout.contains("No errors detected"), "\(r.stdout)")
        }
        // The manifest in the zip is the one `infc build` writes.
        let build = dir.appendingPathComponent("build")
        #expect(try CLI.run(["build", "examples/shop.inf", "-o", build.path, "-q"]).status == 0)
        let unzip = try CLI.run(["-p", a.appendingPathComponent("package.zip").path, "manifest.json"], executable: URL(fileURLWithPath: "/usr/bin/unzip"))
        #expect(unzip.stdout == (try String(contentsOf: build.appendingPathComponent("manifest.json"), encoding: .utf8)))
    }

    @Test func withoutABootstrapPackageSaysHowToGetOne() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // infc and infc-runtime (which runs the command) without infc-lambda beside them.
        let lone = dir.appendingPathComponent("infc")
        try FileManager.default.copyItem(at: Binary.url, to: lone)
        try FileManager.default.copyItem(at: Binary.url.deletingLastPathComponent().appendingPathComponent("infc-runtime"),
                                         to: dir.appendingPathComponent("infc-runtime"))
        let r = try CLI.run(["package", "examples/shop.inf", "-o", dir.appendingPathComponent("out").path], executable: lone)
        #expect(r.status == 2)
        #expect(r.stderr == "infc: error: no Lambda bootstrap: \(dir.path)/infc-lambda does not exist; build the release (make build puts infc-lambda beside infc) or pass --bootstrap PATH\n", "\(r.stderr)")
        let missing = try CLI.run(["package", "examples/shop.inf", "--bootstrap", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 2 && missing.stderr.contains("is not a file"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}

/// The real binary with an environment of our choosing (no AWS settings but these).
enum AWSCLI {
    static func run(_ args: [String], environment: [String: String], timeout: Double = 120) throws -> CLI {
        let r = try runProcess(Binary.url.path, args, environment: environment, directory: CLI.root, timeout: timeout)
        return CLI(status: r.status, stdout: r.text, stderr: r.stderr)
    }
}

/// moto in server mode on a free loopback port (InfcTestSupport's launcher), with the deploy
/// tests' fixture.
final class Moto {
    let server: ChildServer
    var port: Int { server.port }

    static let available = Python.has("moto.server", "boto3")

    init(lambdaShim: Int? = nil) throws { server = try ChildServer.moto(lambdaShim: lambdaShim) }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() { server.stop() }

    /// scripts/aws_fixture.py PORT ARGS..., its JSON answer.
    func fixture(_ arguments: String...) throws -> JSON {
        let python = try #require(Python.python3)
        let r = try runProcess(python, [repositoryRoot.appendingPathComponent("scripts/aws_fixture.py").path, String(port)] + arguments, timeout: 120)
        try #require(r.status == 0, "aws_fixture.py \(arguments): \(r.stderr)")
        return r.stdout.isEmpty ? .null : try JSON.parse(bytes: r.stdout)
    }
}

@Suite struct DeployUsageTests {
    /// Usage mistakes are one line each, found before any AWS call (no settings are needed).
    @Test func usageMistakesAreOneLine() throws {
        let env = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"]
        let cases: [([String], String)] = [
            (["deploy", "examples/shop.inf"], "infc: error: infc deploy needs --stack NAME (the CloudFormation stack); see 'infc help deploy'\n"),
            (["deploy", "examples/shop.inf", "--stack", "9shop"], "infc: error: '9shop' is not a stack name: a letter, then letters, digits and '-', at most 128 characters\n"),
            (["deploy", "examples/shop.inf", "--stack", "shop_1"], "infc: error: 'shop_1' is not a stack name: a letter, then letters, digits and '-', at most 128 characters\n"),
            (["deploy", "--stack", "shop"], "infc: error: usage: infc deploy FILE --stack NAME [--region R] [--endpoint URL] [--profile P]\n"),
            (["deploy", "examples/shop.inf", "--stack", "shop", "--endpoint", "ftp://x"], "infc: error: --endpoint=ftp://x is not an http:// or https:// URL\n"),
            (["deploy", "examples/shop.inf", "--stack", "shop", "--region", "eu west"], "infc: error: `eu west` is not an AWS region name\n"),
            (["deploy", "examples/shop.inf", "--stack", "shop", "--bootstrap", "/bin/true", "--secrets", "/nonexistent/.env"], "infc: error: --secrets /nonexistent/.env is not a file; pass a .env file of NAME=value lines\n"),
            (["destroy", "shop"], "infc: error: usage: infc destroy --stack NAME [--region R] [--endpoint URL] [--profile P]\n"),
            (["destroy", "--stack", "shop", "--bucket", "b"], "infc: error: unknown option '--bucket' for 'infc destroy'; see 'infc help destroy'\n"),
        ]
        for (args, expected) in cases {
            let r = try AWSCLI.run(args, environment: env)
            #expect(r.status == 2 && r.stderr == expected, "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }
}

@Suite(.serialized) struct DeployCommandTests {
    /// One emulator for the whole story: deploy, verify, deploy unchanged, edit and update, a
    /// failing deploy, destroy.
    @Test(.enabled(if: Moto.available, "python3 with moto[server] and boto3 is not installed (scripts/install-test-deps.sh)"))
    func deployUpdateAndDestroyOnTheEmulator() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Bootstrap.require()
        let moto = try Moto()
        defer { moto.stop() }
        // Only these settings: no shared files (HOME is empty), a region, keys.
        let home = dir.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let env = ["PATH": "/usr/bin:/bin", "HOME": home.path, "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
        let app = dir.appendingPathComponent("shop.inf")
        try FileManager.default.copyItem(at: CLI.root.appendingPathComponent("examples/shop.inf"), to: app)
        let secrets = dir.appendingPathComponent(".env")
        try "# the payment provider's key\nINFC_SECRET_PAYMENTS_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc\nINFC_SECRET_PAYMENT_KEY=sk_typo_value\n".write(to: secrets, atomically: true, encoding: .utf8)
        let deploy = ["deploy", app.path, "--stack", "shop", "--endpoint", moto.url]

        // 1. The first deploy creates the stack.
        let first = try AWSCLI.run(deploy + ["--secrets", secrets.path], environment: env)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("created the artifact bucket s3://infc-artifacts-123456789012-us-east-1"), "\(first.stdout)")
        #expect(first.stdout.contains("change set: 44 to add, 0 to modify, 0 to remove"))
        #expect(first.stdout.contains("creating stack shop in us-east-1"))
        #expect(first.stdout.contains("CREATE_COMPLETE       AWS::CloudFormation::Stack"))
        #expect(first.stdout.contains("stack shop: CREATE_COMPLETE"))
        #expect(first.stdout.contains("secret payments_key: "))
        #expect(!(first.stdout + first.stderr).contains("sk_test_4eC39HqLyjWDarjtT1zdp7dc"), "a secret's value was printed")
        // A key that sets no declared secret is named (never its value).
        #expect(first.stderr.contains("warning: --secrets \(secrets.path): INFC_SECRET_PAYMENT_KEY names no secret of shop (ignored); its secrets are INFC_SECRET_PAYMENTS_KEY\n"), "\(first.stderr)")
        #expect(!(first.stdout + first.stderr).contains("sk_typo_value"))

        // What was deployed, through each service's own API: the package under its hash, every
        // resource moto's CloudFormation makes (it skips the HTTP API's four types, the topic
        // subscription and the secret: docs/aws.md), the secret's value.
        var package = try CLI.run(["package", app.path, "-o", dir.appendingPathComponent("pkg").path, "-q"])
        #expect(package.status == 0)
        let sha = SHA256.hex([UInt8](try Data(contentsOf: dir.appendingPathComponent("pkg/package.zip"))))
        var stack = try moto.fixture("stack", "shop")
        #expect(stack["status"] == .string("CREATE_COMPLETE"))
        #expect(stack["parameters"]?["CodeKey"] == .string("shop/\(sha).zip"))
        #expect(stack["parameters"]?["CodeBucket"] == .string("infc-artifacts-123456789012-us-east-1"))
        #expect(stack["artifacts"] == .array([.string("infc-artifacts-123456789012-us-east-1/shop/\(sha).zip")]))
        #expect(stack["secret"] == .string("sk_test_4eC39HqLyjWDarjtT1zdp7dc"))
        let resources = try #require(stack["resources"]?.objectValue)
        let template = try JSON.parse(bytes: [UInt8](try Data(contentsOf: CLI.root.appendingPathComponent("Tests/Golden/emit/shop.template.json"))))
        let skipped: Set<String> = ["AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Route",
                                    "AWS::ApiGatewayV2::Integration", "AWS::SNS::Subscription", "AWS::SecretsManager::Secret"]
        let expected = Array(template["Resources"]?.objectValue ?? JSONObject()).filter { !skipped.contains($0.value["Type"]?.stringValue ?? "") }.map(\.key)
        #expect(resources.keys.sorted() == expected.sorted())
        for (logical, r) in resources {
            // Permissions have no API of their own; everything else is found by its service.
            if r["type"] != .string("AWS::Lambda::Permission") { #expect(r["exists"] == .bool(true), "\(logical)") }
        }

        // 2. Again, unchanged: nothing uploaded, nothing changed, exit 0.
        let again = try AWSCLI.run(deploy, environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("is already in s3://infc-artifacts-123456789012-us-east-1/shop/\(sha).zip: not uploaded again"))
        #expect(again.stdout.contains("stack shop is up to date: no changes to deploy"))
        #expect(!again.stdout.contains("updating"))

        // 3. After an edit (a new table the route writes), an update.
        var source = try String(contentsOf: app, encoding: .utf8)
        source = source.replacingOccurrences(of: "bucket receipts", with: "bucket receipts\ntable audit")
            .replacingOccurrences(of: "  orders.put(order.id, order)\n", with: "  orders.put(order.id, order)\n  audit.put(order.id, { at: now() })\n")
        try source.write(to: app, atomically: true, encoding: .utf8)
        let update = try AWSCLI.run(deploy, environment: env)
        #expect(update.status == 0, "\(update.stderr)")
        #expect(update.stdout.contains("uploaded the package"))
        #expect(update.stdout.contains("change set: 1 to add,"), "\(update.stdout)")
        #expect(update.stdout.contains("stack shop: UPDATE_COMPLETE"))
        stack = try moto.fixture("stack", "shop")
        #expect(stack["status"] == .string("UPDATE_COMPLETE"))
        #expect(stack["resources"]?["AuditTable"]?["exists"] == .bool(true))
        #expect(stack["parameters"]?["CodeKey"] != .string("shop/\(sha).zip"))
        #expect(stack["artifacts"]?.arrayValue?.count == 2)

        // 4. A deploy the emulator refuses: a log group the stack names exists already. The
        // command fails with AWS's reason in one line and exit 1.
        _ = try moto.fixture("loggroup", "/infc/clash/charge")
        let clash = try AWSCLI.run(["deploy", "examples/shop.inf", "--stack", "clash", "--endpoint", moto.url], environment: env)
        #expect(clash.status == 1)
        #expect(clash.stderr.hasSuffix("infc: error: CloudFormation could not carry out the change to stack clash: ResourceAlreadyExistsException: The specified log group already exists\n"), "\(clash.stderr)")

        // A template over CloudFormation's 51,200-byte inline limit goes through the artifact bucket.
        let coffee = try AWSCLI.run(["deploy", "examples/coffee.inf", "--stack", "coffee", "--endpoint", moto.url], environment: env)
        #expect(coffee.status == 0, "\(coffee.stderr)")
        #expect(coffee.stdout.contains("over CloudFormation's 51.2 KB inline limit) is read from s3://infc-artifacts-123456789012-us-east-1/coffee/"), "\(coffee.stdout)")
        let coffeeStack = try moto.fixture("stack", "coffee")
        #expect(coffeeStack["status"] == .string("CREATE_COMPLETE"))
        #expect(coffeeStack["artifacts"]?.arrayValue?.contains { $0.stringValue?.hasSuffix(".template.json") == true } == true)

        // 5. Settings that are missing are one line each, before any work.
        var bare = env
        bare["AWS_ACCESS_KEY_ID"] = nil
        let noKeys = try AWSCLI.run(deploy, environment: bare)
        #expect(noKeys.status == 2 && noKeys.stderr == "infc: error: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile `default` to \(home.path)/.aws/credentials\n", "\(noKeys.stderr)")
        bare = env
        bare["AWS_REGION"] = nil
        let noRegion = try AWSCLI.run(deploy, environment: bare)
        #expect(noRegion.status == 2 && noRegion.stderr.contains("no AWS region: set AWS_REGION") && noRegion.stderr.contains("or pass --region"), "\(noRegion.stderr)")
        // A profile from the shared credentials file works instead of the environment's keys.
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try "[ci]\naws_access_key_id = testing\naws_secret_access_key = testing\n".write(to: home.appendingPathComponent(".aws/credentials"), atomically: true, encoding: .utf8)
        var profiled = env
        profiled["AWS_ACCESS_KEY_ID"] = nil
        profiled["AWS_SECRET_ACCESS_KEY"] = nil
        let viaProfile = try AWSCLI.run(deploy + ["--profile", "ci"], environment: profiled)
        #expect(viaProfile.status == 0 && viaProfile.stdout.contains("up to date"), "\(viaProfile.stderr)")

        // 6. Destroy: the stack goes, its retained data stays.
        let destroy = try AWSCLI.run(["destroy", "--stack", "shop", "--endpoint", moto.url], environment: env)
        #expect(destroy.status == 0, "\(destroy.stderr)")
        #expect(destroy.stdout.contains("DELETE_COMPLETE"))
        #expect(destroy.stdout.contains("stack shop deleted"))
        #expect(destroy.stdout.contains("kept with their data (DeletionPolicy Retain)"))
        let orders = try #require(resources["OrdersTable"]?["physical"]?.stringValue)
        #expect(destroy.stdout.contains("AWS::DynamoDB::Table  OrdersTable  \(orders)"))
        let charge = try #require(resources["ChargeFunction"]?["physical"]?.stringValue)
        let after = try moto.fixture("stack", "shop")
        #expect(after["status"] == .string("NONE"))
        // Through the services: the table is still there, the function is not.
        let python = try #require(Python.python3)
        let probe = try CLI.run(["-c", """
            import sys; sys.path.insert(0, "scripts"); sys.argv = ["aws_fixture.py", "\(moto.port)"]
            import aws_fixture
            print(aws_fixture.exists("AWS::DynamoDB::Table", "\(orders)"), aws_fixture.exists("AWS::Lambda::Function", "\(charge)"))
            """], executable: URL(fileURLWithPath: python))
        #expect(probe.stdout == "True False\n", "\(probe.stdout)\(probe.stderr)")
        let gone = try AWSCLI.run(["destroy", "--stack", "shop", "--endpoint", moto.url], environment: env)
        #expect(gone.status == 0 && gone.stdout == "stack shop does not exist in us-east-1: nothing to delete\n")
        package = try CLI.run(["destroy"])
        #expect(package.status == 2 && package.stderr.contains("needs --stack NAME"))
    }
}
