// The release `infc-lambda` (scripts/build-lambda.sh; `make build` and `make test` build it) is
// one static executable that loads on Amazon Linux 2023: `ldd` calls it not a dynamic executable,
// it requires no glibc symbol version above GLIBC_2.34 (it has no dynamic symbols at all), and it
// works: it serves an HTTP API event and reports an init error through the Runtime API.
import Foundation
import InfcCompiler
import InfcHTTPClient
import Testing

@Suite(.serialized) struct LambdaStaticBuildTests {
    /// Where scripts/build-lambda.sh writes the bootstrap (INFC_LAMBDA overrides it).
    static let path = ProcessInfo.processInfo.environment["INFC_LAMBDA"]
        ?? TestEnvironment.repositoryRoot.appendingPathComponent(".build/release/infc-lambda").path
    static let built = FileManager.default.isExecutableFile(atPath: path)

    @Test(.enabled(if: built, "no static bootstrap at .build/release/infc-lambda: `make test` builds it (scripts/build-lambda.sh)"))
    func theBootstrapIsStaticAndNeedsNothingNewerThanGlibc234() throws {
        let ldd = try TestEnvironment.run("/usr/bin/ldd", [Self.path], timeout: 30)
        let lddText = String(decoding: ldd.stdout, as: UTF8.self) + ldd.stderr
        #expect(lddText.contains("not a dynamic executable"), "ldd: \(lddText)")
        // Every symbol version the binary requires (a static one requires none).
        let readelf = try TestEnvironment.run("/usr/bin/readelf", ["--version-info", "--dyn-syms", "-W", Self.path], timeout: 30)
        let text = String(decoding: readelf.stdout, as: UTF8.self)
        var newest = (2, 0)
        var found: [String] = []
        for word in text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) where word.hasPrefix("GLIBC_") {
            let parts = word.dropFirst(6).split(separator: ".").compactMap { Int($0) }
            guard parts.count >= 2 else { continue }
            found.append(String(word))
            if (parts[0], parts[1]) > newest { newest = (parts[0], parts[1]) }
        }
        #expect(newest <= (2, 34), "requires \(found.sorted().last ?? "")")
        let program = try TestEnvironment.run("/usr/bin/readelf", ["-l", "-W", Self.path], timeout: 30)
        let headers = String(decoding: program.stdout, as: UTF8.self)
        #expect(!headers.contains("INTERP") && !headers.contains("DYNAMIC"), "an interpreter or a dynamic section: \(headers)")
    }

    @Test(.enabled(if: built && TestEnvironment.python3 != nil, "no static bootstrap at .build/release/infc-lambda (`make test` builds it), or no python3"))
    func theStaticBootstrapServesEventsAndReportsInitErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let source = """
            app tiny
            route GET "/hello/:name" (req) {
              return { status: 200, headers: { "Set-Cookie": "n=1" }, body: { hello: req.params.name, q: req.query.q } }
            }
            route POST "/echo" (req) {
              return req.body
            }
            """
        try Data(source.utf8).write(to: URL(fileURLWithPath: dir.path("app.inf")))
        let build = try TestEnvironment.run(LambdaBootstrapTests.executable("infc"), ["build", "app.inf", "-o", "build"], directory: dir.url, timeout: 60)
        #expect(build.status == 0, "\(build.stderr)")
        let environment = ["INFC_FUNCTION": "get_hello_name", "INFC_HANDLERS": #"["route GET /hello/:name"]"#, "AWS_REGION": "us-east-1",
                           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"]
        let hello: JSON = ["version": "2.0", "routeKey": "GET /hello/{name}", "rawPath": "/hello/ada", "rawQueryString": "q=%C3%A9",
                           "headers": ["accept": "*/*"], "requestContext": ["http": ["method": "GET", "path": "/hello/ada"]],
                           "pathParameters": ["name": "ada"], "isBase64Encoded": false]
        let (results, stderr) = try LambdaBootstrapTests.bootstrap([hello, hello], function: "get_hello_name", environment: environment,
                                                                   root: dir.path("build"), executable: Self.path)
        #expect(results.count == 2, "\(results) \(stderr)")
        let answer = try JSON.parse(results.first?["body"]?.stringValue ?? "")
        #expect(answer["statusCode"] == 200 && answer["body"] == #"{"hello":"ada","q":"é"}"# && answer["cookies"] == ["n=1"], "\(answer)")
        let failed = try LambdaBootstrapTests.bootstrap([hello], function: "", environment: environment.merging(["INFC_FUNCTION": "nobody"]) { $1 },
                                                        root: dir.path("build"), executable: Self.path)
        #expect(failed.results.first?["kind"] == "init-error" && failed.results.first?["errorType"] == "infc.EnvironmentInvalid", "\(failed)")
    }
}
