// Lambda: the two small functions a workflow's state machine calls besides its tasks — its
// evaluator (`NAME-eval`, `INFC_EVALUATES`), which evaluates the expressions that have no States
// form with the same interpreter over the state's variables and step results, and a limited
// service's function (`serviceCall`), which makes one call to the service. docs/aws.md,
// "Expressions without a States form", has the evaluator's request and answer.
import InfcAWS
import InfcCompiler
import InfcRuntime

extension LambdaFunction {
    /// One evaluator request: `evaluate` (expressions by range, each answered as asked),
    /// `unwrap` (a DynamoDB `getItem` answer to the stored value) or `error` (a caught
    /// `{Error, Cause}` to the value `catch e` binds).
    func evaluate(_ request: JSON, workflow: ManifestWorkflow, deadline: Double) throws(LambdaFunctionError) -> JSON {
        guard request["workflow"]?.stringValue == workflow.name.text else {
            throw LambdaFunctionError(type: "infc.EventInvalid", message: "function \(function.name) evaluates workflow \(workflow.name), and the request is for \(request["workflow"]?.serialized() ?? "no workflow")")
        }
        if let items = request["evaluate"]?.objectValue {
            let variables = request["variables"]?.objectValue ?? JSONObject()
            var steps: [SourceRange: JSON] = [:]
            for (key, value) in request["results"]?.objectValue ?? JSONObject() {
                if let range = Self.stepRange(key) { steps[range] = value }
            }
            let trace = HostSupport.acceptTrace(request["trace"]?.stringValue) ?? HostSupport.trace()
            let started = LambdaClock.now()
            var out = JSONObject()
            var failure: RuntimeError?
            for (key, item) in items {
                guard let at = item["at"]?.arrayValue, at.count == 2, let start = at[0].intValue, let end = at[1].intValue,
                      let mode = item["as"]?.stringValue, ["value", "condition", "seconds", "attribute"].contains(mode) else {
                    throw LambdaFunctionError(type: "infc.EventInvalid", message: "evaluate.\(key) is not {\"at\": [start, end], \"as\": value|condition|seconds|attribute}")
                }
                let host = AWSHost(context: context, trace: trace, deadline: deadline)
                do throws(RuntimeError) {
                    let value = try deployment.interpreter.evaluate(
                        expressionAt: SourceRange(start, end), in: deployment.declaration(workflow.entry), variables: variables,
                        steps: steps, host: host)
                    out[key] = try Self.answer(value, as: mode, at: SourceRange(start, end))
                } catch {
                    failure = error
                    break
                }
            }
            logger.invocation(function: function.name.text, trigger: "evaluate \(workflow.name.text)", durationMs: (LambdaClock.now() - started) * 1000,
                              outcome: failure == nil ? .ok : (failure?.kind.isTimeout == true ? .timeout : .error), trace: trace,
                              error: failure.map { logger.redactor.redact($0.description) })
            if let failure { throw taskError(failure) }
            return .object(out)
        }
        if let answer = request["unwrap"] {
            // `getItem`'s answer: `{Item: {id, value}}`, or no `Item` when nothing is stored.
            guard let item = answer["Item"]?.objectValue else { return .null }
            return DynamoDBValue.object(item)?["value"] ?? .null
        }
        if let caught = request["error"] { return Self.caughtValue(caught) }
        throw LambdaFunctionError(type: "infc.EventInvalid", message: "an evaluator request has `evaluate`, `unwrap` or `error`")
    }

    /// `s<start>_<end>`: the range of the step whose result a key of `$.r` holds.
    static func stepRange(_ key: String) -> SourceRange? {
        guard key.hasPrefix("s") else { return nil }
        let parts = key.dropFirst().split(separator: "_")
        guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]) else { return nil }
        return SourceRange(start, end)
    }

    /// An evaluated value in the form the state needs.
    static func answer(_ value: JSON, as mode: String, at range: SourceRange) throws(RuntimeError) -> JSON {
        switch mode {
        case "condition": return .bool(Interpreter.isTruthy(value))
        case "seconds":
            // As `sleep` takes it locally; a Wait takes whole seconds (rounded up).
            guard case .number(let ms) = value, ms >= 0, ms.isFinite else {
                throw RuntimeError.runtime("invalid-argument", "`sleep` takes a number of milliseconds ≥ 0, not \(Interpreter.format(value))", at: range)
            }
            return .number((ms / 1000).rounded(.up))
        case "attribute": return DynamoDBValue.attribute(value)
        default: return value
        }
    }

    /// The value `catch e` binds for a failure Step Functions caught (`{Error, Cause}`): a
    /// `throw`'s value (`infc.Thrown`, the value as the cause); a function's failure as its
    /// error value (`errorValue`, which infc's functions report beside `errorType`); otherwise
    /// `{error: cause, code: Error}` as a runtime error's value.
    static func caughtValue(_ caught: JSON) -> JSON {
        let code = caught["Error"]?.stringValue ?? "error"
        let cause = caught["Cause"]?.stringValue ?? ""
        let parsed = try? JSON.parse(cause)
        if code == "infc.Thrown" { return parsed ?? .string(cause) }
        if let o = parsed?.objectValue, o["errorType"] != nil {
            if let value = o["errorValue"] { return value }
            return .object(JSONObject([("error", o["errorMessage"] ?? .string("")), ("code", o["errorType"] ?? .string(code))]))
        }
        return .object(JSONObject([("error", .string(cause)), ("code", .string(code))]))
    }

    /// A failure as the function reports it: its code as the error type (for the state
    /// machine's retry and catch), and the value a `catch` binds.
    func taskError(_ e: RuntimeError) -> LambdaFunctionError {
        var error = LambdaFunctionError(type: e.code, message: logger.redactor.redact(e.description))
        if e.isCatchable { error.value = e.value }
        return error
    }

    /// A limited service's function: one call `{operation, args}` to its service, under its
    /// limit (the function's reserved concurrency) and the service's rate.
    func serviceCall(_ event: JSON, service: String, deadline: Double) throws(LambdaFunctionError) -> JSON {
        guard let name = event["operation"]?.stringValue, let operation = ResourceOperation(rawValue: name),
              ResourceKind.service.operations.contains(operation) else {
            throw LambdaFunctionError(type: "infc.EventInvalid", message: "function \(function.name) calls \(service): the event names no operation of a service (get, post, put, delete)")
        }
        let trace = HostSupport.acceptTrace(event["trace"]?.stringValue) ?? HostSupport.trace()
        let started = LambdaClock.now()
        let host = AWSHost(context: context, trace: trace, deadline: deadline)
        let result: Result<JSON, RuntimeError>
        do throws(RuntimeError) {
            result = .success(try host.perform(operation, on: service, kind: .service, arguments: event["args"]?.arrayValue ?? [],
                                               at: SourceRange(0, 0)))
        } catch {
            result = .failure(error)
        }
        var errorText: String?
        if case .failure(let e) = result { errorText = logger.redactor.redact(e.description) }
        logger.invocation(function: function.name.text, trigger: "call \(service).\(name)", durationMs: (LambdaClock.now() - started) * 1000,
                          outcome: errorText == nil ? .ok : .error, trace: trace, error: errorText)
        switch result {
        case .success(let v): return v
        case .failure(let e): throw taskError(e)
        }
    }
}
