// infc-lambda: the Lambda custom runtime (`bootstrap` in the package, runtime provided.al2023).
// Loads the package in $LAMBDA_TASK_ROOT, the function and handlers the template named in the
// environment, and serves the Runtime API at $AWS_LAMBDA_RUNTIME_API until Lambda ends the
// process. A start that fails is reported through the init error endpoint (docs/aws.md).
import Glibc
import InfcLambda

var environment: [String: String] = [:]
var entry = environ
while let pointer = entry.pointee {
    let text = String(cString: pointer)
    if let eq = text.firstIndex(of: "=") { environment[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
    entry += 1
}

func fail(_ text: String) -> Never {
    let line = Array("infc-lambda: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

guard let address = environment["AWS_LAMBDA_RUNTIME_API"], let api = LambdaRuntimeAPI(address: address) else {
    fail("AWS_LAMBDA_RUNTIME_API is not set to host:port; this program is the bootstrap of an infc function in AWS Lambda")
}
let root = environment["LAMBDA_TASK_ROOT"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
let function: LambdaFunction
do {
    function = try LambdaFunction.load(root: root, environment: environment)
} catch {
    do {
        try api.initializationFailed(LambdaFunctionError(type: error.type, message: error.message))
    } catch {
        fail("\(error) (while reporting the init error)")
    }
    fail(error.message)
}
do {
    try function.serve(api)
} catch {
    fail("the Runtime API went away: \(error)")
}
