// Diagnostics stage: the catalogue of messages. Every diagnostic the compiler reports is one
// case of `DiagnosticMessage`; its code, text, notes and help are written here and nowhere
// else. Call sites supply the facts (names, counts, ranges, suggestions) as associated values.

/// One message of the catalogue. The values it carries are facts of the program (names,
/// numbers, a spelling suggestion), never prose: the prose is written in `entry`.
public enum DiagnosticMessage: Hashable, Sendable {
    // E0101 unexpected-character
    case unexpectedCharacter(String, hint: CharacterHint?)
    case unexpectedNULByte
    case unexpectedNULByteInString
    // E0102 unterminated-string
    case unterminatedString
    // E0103 unterminated-comment
    case unterminatedComment
    // E0104 invalid-escape
    case incompleteEscape
    case unicodeEscapeWithoutBraces
    case invalidUnicodeEscape
    case invalidEscape(String)
    // E0105 invalid-number
    case invalidNumber(String, looksLikeVersion: Bool)
    case numberTooLarge(String)
    // E0106 invalid-duration
    case unknownDurationUnit(unit: String, literal: String)
    case fractionalDuration
    case durationTooLong(String)
    // E0107 expected-token
    case expected(String, found: String)
    case expectedServiceURL(service: String, found: String)
    case expectedCatch(found: String)
    case expectedSleepDuration(found: String)
    case unclosedBlock
    // E0108 expected-expression
    case expectedExpression(String, found: String, hint: ExpressionHint?)
    case emptyInterpolation
    // E0109 expected-declaration
    case expectedDeclaration(found: String, hint: DeclarationHint)
    // E0110 nesting-too-deep
    case nestingTooDeep(what: String, limit: Int)
    // E0111 invalid-utf8
    case invalidUTF8
    case invalidUTF8InString
    // E0112 invalid-assignment-target
    case invalidAssignmentTarget
    // E0113 chained-comparison
    case chainedComparison
    // E0114 interpolation-not-allowed
    case interpolationNotAllowed
    // E0115 else-without-if
    case elseWithoutIf

    // E0201 undefined-name
    case undefinedName(String, suggestion: String?)
    case undefinedTopic(String, suggestion: String?)
    // E0202 duplicate-declaration
    case duplicateDeclaration(String)
    case builtinRedeclared(String)
    // E0203 wrong-arity
    case wrongArity(what: String, expects: String, given: Int, signature: String)
    // E0204 unknown-operation
    case unknownOperation(kind: String, resource: String, operation: String, supported: String, suggestion: String?)
    // E0205 resource-not-value
    case builtinNotValue(String, signature: String)
    case operationNotCalled(resource: String, operation: String, kind: String, signature: String?, supported: String)
    case fnNotValue(String)
    case resourceNotValue(String, kind: String, operations: String)
    // E0206 assign-to-immutable
    case assignToBinding(String, what: String, isLet: Bool)
    case assignToDeclaration(String, kind: String)
    case assignToBuiltin(String)
    // E0207 not-callable
    case resourceNotCallable(String, kind: String, example: String)
    case variableNotCallable(String)
    case fnHasNoOperations(String)
    case notAMethod(String)
    case expressionNotCallable
    // E0208 async-target
    case asyncNeedsCall
    case asyncNeedsFn
    // E0209 duplicate-binding
    case duplicateBinding(String, mutable: Bool)
    case duplicateObjectKey(String)
    // E0210 duplicate-parameter
    case duplicateParameter(String)
    // E0211 not-a-topic
    case notATopic(String)
    // E0212 return-in-parallel
    case returnInParallel
    // E0213 unknown-path-parameter
    case unknownPathParameter(String, request: String, known: [String], suggestion: String?)
    // E0214 wrong-parameter-count
    case scheduleParameters
    case routeParameters
    case subscriberParameters(topic: String)

    // E0301 unknown-attribute
    case unknownServiceSetting(String, suggestion: String?)
    case unknownAttribute(String, suggestion: String?)
    // E0302 duplicate-attribute
    case duplicateServiceSetting(String)
    case duplicateAppSetting(String)
    case duplicateAttribute(String)
    // E0303 misplaced-attribute
    case attributeOnRoute(String)
    // E0304 invalid-attribute-value
    case serviceLimitBelowOne
    case invalidLimit
    case invalidRetry
    case invalidDurationAttribute(String)
    // E0305 unknown-app-setting
    case unknownAppSetting(String, settings: [String], suggestion: String?)
    // E0306 invalid-app-setting
    case invalidGranularity
    case unreservedNotBelowAccount(account: Int)
    case appSettingNotWholeNumber(String, minimum: Int)
    // E0307 duplicate-app
    case duplicateApp
    // E0308 invalid-route-path
    case invalidRoutePath(String, problem: String)
    // E0309 invalid-http-method
    case invalidHTTPMethod(String, methods: [String])
    // E0310 duplicate-route
    case duplicateRoute(method: String, path: String)
    // E0311 conflicting-route
    case conflictingRoute(method: String, path: String, otherPath: String, shape: String)
    // E0312 invalid-cron
    case invalidCron(String, problem: String)
    // E0313 schedule-too-frequent
    case scheduleTooFrequent
    // E0314 invalid-service-url
    case invalidServiceURL(String)
    // E0315 invalid-rate
    case rateWithoutPeriod(count: String)
    case unknownRatePeriod(count: String, unit: String)
    case rateBelowOne
    // E0316 sleep-in-route
    case sleepInRoute
    // E0317 route-timeout-too-long
    case routeTimeoutTooLong

    // E0401 async-cycle
    case asyncCycle([String])
    // E0402 workflow-in-route
    case routeCallsWorkflow(method: String, path: String, callee: String, call: String)
    case parallelInRoute
    // E0403 unsatisfiable-limits
    case serviceLimitTooSmall(service: String, cap: Int, users: [String])
    case reservedConcurrencyTooHigh(reserved: Int, available: Int, account: Int, unreserved: Int)
    // E0404 over-budget
    case overBudget(BudgetOverrun)

    // W0501 unused-variable
    case unusedVariable(String)
    // W0502 unused-function
    case unusedFunction(String)
    // W0503 unused-resource
    case unusedResource(String, kind: String)
    // W0504 unreachable-code
    case unreachableCode
    // W0505 possible-async-cycle
    case possibleAsyncCycle([String])
    // W0506 route-uses-limited-service
    case routeCallsLimitedServiceThrough(method: String, path: String, service: String, callee: String)
    case routeCallsLimitedService(method: String, path: String, service: String)
    // W0507 unused-path-parameter
    case unusedPathParameter(String, request: String)

    /// The hint an unexpected ASCII character earns, by what it is most likely a typo of.
    public enum CharacterHint: Hashable, Sendable { case and, or, coalesce, singleQuote, nonASCII }
    /// Why an expression was expected where it was not found.
    public enum ExpressionHint: Hashable, Sendable { case reservedWord(String), bareObjectLiteral }
    /// What to say when a declaration was expected.
    public enum DeclarationHint: Hashable, Sendable { case list, statement, suggestion(String) }

    /// The facts of an over-budget plan that its message reports.
    public struct BudgetOverrun: Hashable, Sendable {
        public var total: Int
        public var cap: Int
        /// `(count, resource type)` in the budget's order.
        public var byType: [Count]
        /// The largest contributors, `(label, count)`.
        public var contributors: [Count]
        public var groups: Int
        public var groupExample: [String]
        public var appName: String
        public var groupingSaves: Int
        /// Unused declarations and what removing them saves.
        public var unused: [String]
        public var unusedSaves: Int

        public struct Count: Hashable, Sendable {
            public var label: String
            public var count: Int
            public init(_ label: String, _ count: Int) { self.label = label; self.count = count }
        }

        public init(total: Int, cap: Int, byType: [Count], contributors: [Count], groups: Int, groupExample: [String],
                    appName: String, groupingSaves: Int, unused: [String], unusedSaves: Int) {
            self.total = total
            self.cap = cap
            self.byType = byType
            self.contributors = contributors
            self.groups = groups
            self.groupExample = groupExample
            self.appName = appName
            self.groupingSaves = groupingSaves
            self.unused = unused
            self.unusedSaves = unusedSaves
        }
    }

    /// A message's code and prose.
    public struct Entry: Sendable {
        public var code: DiagnosticCode
        public var text: String
        public var notes: [String]
        public var help: String?
        init(_ code: DiagnosticCode, _ text: String, notes: [String] = [], help: String? = nil) {
            self.code = code
            self.text = text
            self.notes = notes
            self.help = help
        }
    }

    public var code: DiagnosticCode { entry.code }

    private static func didYouMean(_ s: String?) -> String? { s.map { "did you mean `\($0)`?" } }

    /// The code, text, notes and help of this message: the one place they are written.
    public var entry: Entry {
        switch self {
        case .unexpectedCharacter(let ch, let hint):
            let help: String? = switch hint {
            case .and: "use `&&` for logical and"
            case .or: "use `||` for logical or"
            case .coalesce: "use `??` to supply a default for null"
            case .singleQuote: "strings use double quotes: \"…\""
            case .nonASCII: "names use ASCII letters, digits and `_`; other text belongs in strings or comments"
            case nil: nil
            }
            return Entry(.unexpectedCharacter, "unexpected character `\(ch)`", help: help)
        case .unexpectedNULByte:
            return Entry(.unexpectedCharacter, "unexpected NUL byte", help: "remove it; .inf files are UTF-8 text")
        case .unexpectedNULByteInString:
            return Entry(.unexpectedCharacter, "unexpected NUL byte in string", help: "write `\\u{0}` for a NUL character")
        case .unterminatedString:
            return Entry(.unterminatedString, "unterminated string", help: "close the string with `\"` on the same line")
        case .unterminatedComment:
            return Entry(.unterminatedComment, "unterminated block comment", help: "close it with `*/`")
        case .incompleteEscape:
            return Entry(.invalidEscape, "incomplete escape sequence", help: "write `\\\\` for a backslash")
        case .unicodeEscapeWithoutBraces:
            return Entry(.invalidEscape, "invalid unicode escape", help: "write it as \\u{1F600}")
        case .invalidUnicodeEscape:
            return Entry(.invalidEscape, "invalid unicode escape", help: "write 1 to 6 hex digits of a Unicode scalar, as in \\u{1F600}")
        case .invalidEscape(let shown):
            return Entry(.invalidEscape, "invalid escape sequence `\\\(shown)`",
                         help: "valid escapes are \\n \\t \\r \\0 \\\" \\\\ \\{ \\} and \\u{…}")
        case .invalidNumber(let literal, let looksLikeVersion):
            return Entry(.invalidNumber, "invalid number `\(literal)`",
                         help: looksLikeVersion ? "a number has at most one decimal point; write versions as strings, e.g. \"1.2.3\""
                                                : "numbers are written as 42 or 3.14")
        case .numberTooLarge(let literal):
            return Entry(.invalidNumber, "number `\(literal)` is too large")
        case .unknownDurationUnit(let unit, let literal):
            return Entry(.invalidDuration, "unknown duration unit `\(unit)` in `\(literal)`",
                         help: unit == "w" ? "durations use ms, s, m, h or d: write weeks as days, e.g. 7d"
                                           : "durations use ms, s, m, h or d, as in 250ms, 30s, 5m, 2h, 1d")
        case .fractionalDuration:
            return Entry(.invalidDuration, "durations are whole numbers", help: "use a smaller unit instead of a fraction, e.g. 90m rather than 1.5h")
        case .durationTooLong(let literal):
            return Entry(.invalidDuration, "duration `\(literal)` is too long")
        case .expected(let what, let found):
            return Entry(.expectedToken, "expected \(what), found \(found)")
        case .expectedServiceURL(let service, let found):
            return Entry(.expectedToken, "expected the service's base URL as a string, found \(found)",
                         help: "write `service \(service) \"https://api.example.com\"`")
        case .expectedCatch(let found):
            return Entry(.expectedToken, "expected `catch` after the `try` block, found \(found)", help: "write `try { … } catch e { … }`")
        case .expectedSleepDuration(let found):
            return Entry(.expectedToken, "expected a duration after `sleep`, found \(found)", help: "write `sleep 5m`")
        case .unclosedBlock:
            return Entry(.expectedToken, "expected `}` to close this block", help: "add the missing `}`")
        case .expectedExpression(let what, let found, let hint):
            let help: String? = switch hint {
            case .reservedWord(let word): "`\(word)` is a reserved word; it cannot be used as a value or name here"
            case .bareObjectLiteral: "an object literal here needs parentheses: `({ … })`"
            case nil: nil
            }
            return Entry(.expectedExpression, "expected \(what), found \(found)", help: help)
        case .emptyInterpolation:
            return Entry(.expectedExpression, "empty interpolation `{}`",
                         help: "put an expression inside the braces, or write `\\{\\}` for literal braces")
        case .expectedDeclaration(let found, let hint):
            let help = switch hint {
            case .list: "a program is a list of declarations: app, table, bucket, topic, secret, service, fn, route, on, every"
            case .statement: "statements belong inside a `fn` or handler body"
            case .suggestion(let word): "did you mean `\(word)`?"
            }
            return Entry(.expectedDeclaration, "expected a declaration, found \(found)", help: help)
        case .nestingTooDeep(let what, let limit):
            return Entry(.nestingTooDeep, "\(what) nested too deeply",
                         help: "split it into smaller functions or `let` bindings (at most \(limit) levels)")
        case .invalidUTF8:
            return Entry(.invalidUTF8, "invalid UTF-8 byte sequence", help: "save the file as UTF-8")
        case .invalidUTF8InString:
            return Entry(.invalidUTF8, "invalid UTF-8 byte sequence in string", help: "save the file as UTF-8")
        case .invalidAssignmentTarget:
            return Entry(.invalidAssignmentTarget, "cannot assign to this expression",
                         help: "assign to a `var`, one of its fields (`x.f = …`) or elements (`x[i] = …`)")
        case .chainedComparison:
            return Entry(.chainedComparison, "comparisons cannot be chained", help: "combine them with `&&`: `a < b && b < c`")
        case .interpolationNotAllowed:
            return Entry(.interpolationNotAllowed, "interpolation is not allowed here",
                         help: "write the text literally; escape braces as `\\{` and `\\}`")
        case .elseWithoutIf:
            return Entry(.elseWithoutIf, "`else` without a preceding `if`",
                         help: "put `else` on the same line as the `}` that closes the `if` block")

        case .undefinedName(let name, let suggestion):
            return Entry(.undefinedName, "cannot find `\(name)` in scope",
                         help: Self.didYouMean(suggestion) ?? "declare it with `let`, or as a table, bucket, topic, secret, service or fn")
        case .undefinedTopic(let name, let suggestion):
            return Entry(.undefinedName, "cannot find topic `\(name)`", help: Self.didYouMean(suggestion) ?? "declare it: `topic \(name)`")
        case .duplicateDeclaration(let name):
            return Entry(.duplicateDeclaration, "`\(name)` is declared twice",
                         help: "rename one of them; tables, buckets, topics, secrets, services and fns share one namespace")
        case .builtinRedeclared(let name):
            return Entry(.duplicateDeclaration, "`\(name)` is the name of a built-in function", help: "choose another name")
        case .wrongArity(let what, let expects, let given, let signature):
            return Entry(.wrongArity, "\(what) takes \(expects) but \(given) \(given == 1 ? "was" : "were") given",
                         help: "call it as `\(signature)`")
        case .unknownOperation(let kind, let resource, let operation, let supported, let suggestion):
            return Entry(.unknownOperation, "\(kind) `\(resource)` has no operation `\(operation)`",
                         help: "\(kind)s support \(supported)" + (suggestion.map { "; did you mean `\($0)`?" } ?? ""))
        case .builtinNotValue(let name, let signature):
            return Entry(.resourceNotValue, "built-in `\(name)` is a function, not a value", help: "call it: `\(signature)`")
        case .operationNotCalled(let resource, let operation, let kind, let signature, let supported):
            return Entry(.resourceNotValue, "operation `\(resource).\(operation)` must be called",
                         help: signature.map { "call it: `\(resource).\($0)`" } ?? "\(kind)s support \(supported)")
        case .fnNotValue(let name):
            return Entry(.resourceNotValue, "fn `\(name)` is not a value",
                         help: "call it: `\(name)(…)`, or start it in the background: `async \(name)(…)`")
        case .resourceNotValue(let name, let kind, let operations):
            return Entry(.resourceNotValue, "`\(name)` is \(kind), not a value",
                         notes: ["resources cannot be stored or passed, so that infc can see every permission a function needs"],
                         help: "call one of its operations: \(operations)")
        case .assignToBinding(let name, let what, let isLet):
            return Entry(.assignToImmutable, "cannot assign to `\(name)`: it is \(what)",
                         help: isLet ? "declare it with `var` to change it" : "copy it into a `var` first: `var \(name)2 = \(name)`")
        case .assignToDeclaration(let name, let kind):
            return Entry(.assignToImmutable, "cannot assign to `\(name)`: it is \(kind)", help: "assign to a `var` instead")
        case .assignToBuiltin(let name):
            return Entry(.assignToImmutable, "cannot assign to `\(name)`: it is a built-in function")
        case .resourceNotCallable(let name, let kind, let example):
            return Entry(.notCallable, "`\(name)` is \(kind) and cannot be called",
                         help: "call one of its operations, such as `\(name).\(example)`")
        case .variableNotCallable(let name):
            return Entry(.notCallable, "`\(name)` is a variable, not a function", help: "only fns, built-ins and resource operations can be called")
        case .fnHasNoOperations(let name):
            return Entry(.notCallable, "fn `\(name)` has no operations", help: "call it directly: `\(name)(…)`")
        case .notAMethod(let name):
            return Entry(.notCallable, "`.\(name)` is not a function",
                         help: "values have no methods; use the built-ins, e.g. `len(x)`, `keys(x)`, `str(x)`")
        case .expressionNotCallable:
            return Entry(.notCallable, "this expression cannot be called", help: "only fns, built-ins and resource operations can be called")
        case .asyncNeedsCall:
            return Entry(.asyncTarget, "`async` needs a function call", help: "write `async name(arguments)` to run a fn in the background")
        case .asyncNeedsFn:
            return Entry(.asyncTarget, "`async` can only start a fn", help: "declare the work as `fn name(…) { … }` and write `async name(…)`")
        case .duplicateBinding(let name, let mutable):
            return Entry(.duplicateBinding, "`\(name)` is already declared in this scope",
                         help: mutable ? "assign to it with `\(name) = …`, or choose a new name" : "choose a new name, or declare it with `var` and assign to it")
        case .duplicateObjectKey(let key):
            return Entry(.duplicateBinding, "key `\(key)` appears twice in this object",
                         help: "remove one of them; use `merge(a, b)` to combine objects")
        case .duplicateParameter(let name):
            return Entry(.duplicateParameter, "parameter `\(name)` is declared twice", help: "give each parameter its own name")
        case .notATopic(let name):
            return Entry(.notATopic, "`\(name)` is not a topic", help: "`on` subscribes to a topic; declare one with `topic NAME` and `publish` to it")
        case .returnInParallel:
            return Entry(.returnInParallel, "`return` cannot appear inside `parallel`",
                         help: "bind the branch's result with `let` and return after the `parallel` block")
        case .unknownPathParameter(let name, let request, let known, let suggestion):
            return Entry(.unknownPathParameter, "route has no path parameter `:\(name)`",
                         help: suggestion.map { "did you mean `\(request).params.\($0)`?" }
                             ?? (known.isEmpty ? "this route's path has no parameters; add `:\(name)` to it"
                                               : "its parameters are \(known.map { ":" + $0 }.joined(separator: ", "))"))
        case .scheduleParameters:
            return Entry(.wrongParameterCount, "a schedule takes no parameters", help: "remove the parameter list")
        case .routeParameters:
            return Entry(.wrongParameterCount, "a route takes one parameter, the request",
                         help: "write `(req)` and read `req.body`, `req.params`, `req.query` and `req.headers`")
        case .subscriberParameters(let topic):
            return Entry(.wrongParameterCount, "an `on` handler takes one parameter, the message", help: "write `on \(topic) (event) { … }`")

        case .unknownServiceSetting(let word, let suggestion):
            return Entry(.unknownAttribute, "unknown service setting `\(word)`",
                         help: Self.didYouMean(suggestion) ?? "a service takes `limit N` and `rate N/s`")
        case .unknownAttribute(let name, let suggestion):
            return Entry(.unknownAttribute, "unknown attribute `\(name)`",
                         help: Self.didYouMean(suggestion) ?? "attributes are `limit N`, `timeout D`, `retry N` and `backoff D`")
        case .duplicateServiceSetting(let word):
            return Entry(.duplicateAttribute, "`\(word)` is given twice")
        case .duplicateAppSetting(let key):
            return Entry(.duplicateAttribute, "setting `\(key)` is given twice", help: "keep one of them")
        case .duplicateAttribute(let name):
            return Entry(.duplicateAttribute, "attribute `\(name)` is given twice", help: "keep one of them")
        case .attributeOnRoute(let name):
            return Entry(.misplacedAttribute, "a route cannot have `\(name)`",
                         notes: ["a route answers its caller directly; only `async` work is retried"],
                         help: "move the work into a fn with `\(name)` and start it with `async`")
        case .serviceLimitBelowOne:
            return Entry(.invalidAttributeValue, "a service's `limit` must be at least 1",
                         help: "`limit N` caps concurrent calls to the service across the whole app")
        case .invalidLimit:
            return Entry(.invalidAttributeValue, "`limit` must be a whole number of at least 1", help: "`limit N` caps how many executions run at once")
        case .invalidRetry:
            return Entry(.invalidAttributeValue, "`retry` must be a whole number from 0 to 100", help: "`retry N` retries a failed execution N times")
        case .invalidDurationAttribute(let name):
            return Entry(.invalidAttributeValue, "`\(name)` must be a positive duration", help: "write a duration such as `30s`, `5m` or `2h`")
        case .unknownAppSetting(let key, let settings, let suggestion):
            return Entry(.unknownAppSetting, "unknown app setting `\(key)`",
                         help: Self.didYouMean(suggestion) ?? "settings are \(settings.map { "`\($0)`" }.joined(separator: ", "))")
        case .invalidGranularity:
            return Entry(.invalidAppSetting, "`granularity` must be \"per-handler\" or \"grouped\"",
                         help: "\"grouped\" lets handlers with identical permissions and limits share one function")
        case .unreservedNotBelowAccount(let account):
            return Entry(.invalidAppSetting, "`unreserved_concurrency` must be below `account_concurrency` (\(account))")
        case .appSettingNotWholeNumber(let what, let minimum):
            return Entry(.invalidAppSetting, "\(what) must be a whole number of at least \(minimum)")
        case .duplicateApp:
            return Entry(.duplicateApp, "a program declares its app only once", help: "remove this `app` declaration")
        case .invalidRoutePath(let path, let problem):
            return Entry(.invalidRoutePath, "invalid route path \"\(path)\": \(problem)", help: "paths look like \"/orders\" or \"/orders/:id\"")
        case .invalidHTTPMethod(let method, let methods):
            return Entry(.invalidHTTPMethod, "`\(method)` is not an HTTP method infc routes", help: "use one of \(methods.joined(separator: ", "))")
        case .duplicateRoute(let method, let path):
            return Entry(.duplicateRoute, "route \(method) \(path) is declared twice", help: "remove one of them, or change its path")
        case .conflictingRoute(let method, let path, let otherPath, let shape):
            return Entry(.conflictingRoute, "route \(method) \(path) conflicts with \(method) \(otherPath)",
                         notes: ["both paths have the shape \(shape), so a request could match either"],
                         help: "use the same parameter names, or give one a distinct literal segment")
        case .invalidCron(let text, let problem):
            return Entry(.invalidCron, "invalid cron schedule \"\(text)\": \(problem)",
                         help: "cron has 5 fields in UTC: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1-5\"")
        case .scheduleTooFrequent:
            return Entry(.scheduleTooFrequent, "a schedule can run at most once a minute",
                         notes: ["cloud schedulers fire at one-minute granularity"],
                         help: "use `every 1m` or longer; for faster work, loop inside a workflow")
        case .invalidServiceURL(let url):
            return Entry(.invalidServiceURL, "`\(url)` is not a valid service URL",
                         help: "write an absolute http or https URL, such as \"https://api.example.com\"")
        case .rateWithoutPeriod(let count):
            return Entry(.invalidRate, "a rate needs a period, as in `\(count)/s`",
                         help: "write requests per second, minute or hour: `50/s`, `600/m`, `1000/h`")
        case .unknownRatePeriod(let count, let unit):
            return Entry(.invalidRate, "unknown rate period `/\(unit)` in `\(count)/\(unit)`",
                         help: "write requests per second, minute or hour: `/s`, `/m` or `/h`")
        case .rateBelowOne:
            return Entry(.invalidRate, "a rate must be at least 1 request per period")
        case .sleepInRoute:
            return Entry(.sleepInRoute, "a route cannot `sleep`",
                         notes: ["a route must answer within \(PlatformLimits.routeTimeoutSeconds) seconds; a sleeping handler would become a workflow"],
                         help: "move the waiting into a fn and start it with `async`")
        case .routeTimeoutTooLong:
            return Entry(.routeTimeoutTooLong, "a route's timeout cannot exceed \(PlatformLimits.routeTimeoutLiteral)",
                         notes: ["HTTP APIs close requests after \(PlatformLimits.routeTimeoutSeconds) seconds"],
                         help: "answer quickly and move long work into a fn started with `async`")

        case .asyncCycle(let names):
            return Entry(.asyncCycle, "async cycle: \(names.joined(separator: " → ")) runs forever",
                         notes: ["every step of the cycle is unconditional: each message makes another, an infinite loop that bills forever"],
                         help: "break the cycle: guard one of the steps with a condition that ends it, or call the work synchronously")
        case .routeCallsWorkflow(let method, let path, let callee, let call):
            return Entry(.workflowInRoute, "route \(method) \(path) calls `\(callee)` synchronously, but `\(callee)` is a workflow",
                         notes: ["a route must answer within \(PlatformLimits.routeTimeoutSeconds) seconds; a workflow can run for days"],
                         help: "start it in the background with `async \(call)` and answer with 202")
        case .parallelInRoute:
            return Entry(.workflowInRoute, "a route cannot run fns in `parallel`",
                         notes: ["`parallel` over fn calls makes a workflow, and a route must answer within \(PlatformLimits.routeTimeoutSeconds) seconds"],
                         help: "move the parallel work into a fn and start it with `async`")
        case .serviceLimitTooSmall(let service, let cap, let users):
            return Entry(.unsatisfiableLimits, "\(users.count) functions share service `\(service)`, whose limit is \(cap)",
                         notes: ["each function needs at least 1 reserved execution: \(users.map { "`\($0)`" }.joined(separator: ", "))"],
                         help: "raise the service's limit to at least \(users.count), or call it from fewer functions (for example through one fn started with `async`)")
        case .reservedConcurrencyTooHigh(let reserved, let available, let account, let unreserved):
            return Entry(.unsatisfiableLimits, "reserved concurrency \(reserved) exceeds the \(available) the account can reserve",
                         notes: ["the account allows \(account) concurrent executions and keeps \(unreserved) unreserved"],
                         help: "lower some `limit`s, or raise `account_concurrency` in `app { }` if your account allows more")
        case .overBudget(let b):
            var help: [String] = []
            if b.groups > 0 {
                help.append("\(b.groups) group\(b.groups == 1 ? " of handlers has" : "s of handlers have") identical permissions and limits (e.g. \(b.groupExample.joined(separator: ", "))); `app \(b.appName) { granularity: \"grouped\" }` shares one function per group and saves \(b.groupingSaves) resources")
            }
            if !b.unused.isEmpty {
                help.append("remove unused declarations: \(b.unused.joined(separator: ", ")) (saves \(b.unusedSaves))")
            }
            if help.isEmpty { help.append("split the app in two, or raise the cap with `max_resources` if your target allows more") }
            return Entry(.overBudget, "the plan needs \(b.total) resources, over the budget of \(b.cap)",
                         notes: ["by kind: " + b.byType.map { "\($0.count) \($0.label)" }.joined(separator: ", "),
                                 "largest contributors: " + b.contributors.map { "\($0.label) +\($0.count)" }.joined(separator: "; ")],
                         help: help.joined(separator: "; or "))

        case .unusedVariable(let name):
            return Entry(.unusedVariable, "variable `\(name)` is never read",
                         help: "remove it, or prefix its name with `_` to keep it unused on purpose")
        case .unusedFunction(let name):
            return Entry(.unusedFunction, "fn `\(name)` is never called", help: "call it, start it with `async \(name)(…)`, or remove it")
        case .unusedResource(let name, let kind):
            return Entry(.unusedResource, "\(kind) `\(name)` is declared but never used",
                         notes: ["an unused \(kind) still counts against the resource budget"], help: "use it, or remove the declaration")
        case .unreachableCode:
            return Entry(.unreachableCode, "this code will never run", help: "remove it, or move it before the `return` or `throw`")
        case .possibleAsyncCycle(let names):
            return Entry(.possibleAsyncCycle, "possible async cycle: \(names.joined(separator: " → "))",
                         notes: ["a condition may break the cycle; make sure it always ends"],
                         help: "if the cycle is intended, bound it (for example with a counter carried in the message)")
        case .routeCallsLimitedServiceThrough(let method, let path, let service, let callee):
            return Entry(.routeUsesLimitedService, "route \(method) \(path) calls limited service `\(service)` synchronously through `\(callee)`",
                         notes: ["bursts of requests will be throttled by the service's limit or rate"],
                         help: "start `\(callee)` with `async` so requests queue instead of failing")
        case .routeCallsLimitedService(let method, let path, let service):
            return Entry(.routeUsesLimitedService, "route \(method) \(path) calls limited service `\(service)` synchronously",
                         notes: ["bursts of requests will be throttled by the service's limit or rate"],
                         help: "move the call into a fn and start it with `async`, answering 202")
        case .unusedPathParameter(let name, let request):
            return Entry(.unusedPathParameter, "path parameter `:\(name)` is never read",
                         help: "read it as `\(request).params.\(name)`, or use a literal path segment")
        }
    }
}
