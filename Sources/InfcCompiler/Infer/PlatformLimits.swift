// Infer stage: the one table of platform limits and defaults — the route timeout, a function's
// default and longest timeout, retries, backoff, the visibility timeout's factor, the account's
// concurrency. Checks, inference, messages and the manifest all read them from here.

/// The limits of the platform a plan deploys to, and the defaults inference applies.
///
/// The static values are the platform's (API Gateway answers within 29 seconds, Lambda runs at
/// most 15 minutes); the account's concurrency is the app's (`account_concurrency`,
/// `unreserved_concurrency`), so a plan carries its own `PlatformLimits` value.
public struct PlatformLimits: Hashable, Sendable {
    /// An HTTP API closes a request after 29 seconds: a route's timeout and its default.
    public static let routeTimeoutMs: Int64 = 29_000
    /// A function's timeout when it states none.
    public static let defaultTimeoutMs: Int64 = 30_000
    /// The longest a function runs; a longer `timeout` makes a fn a workflow.
    public static let maxFunctionTimeoutMs: Int64 = 15 * 60_000
    /// Retries of a failed execution when a handler states none (a route never retries).
    public static let defaultRetries = 2
    /// The first retry's delay when a handler states no `backoff`.
    public static let defaultBackoffMs: Int64 = 1_000
    /// A queue's visibility timeout is this many times its consumer's timeout.
    public static let visibilityTimeoutFactor: Int64 = 6
    /// A schedule's firing of a workflow is visible again after this long if the start fails.
    public static let workflowStartVisibilityMs: Int64 = 60_000
    /// The account's concurrent executions and the part no function may reserve (defaults).
    public static let defaultAccountConcurrency = 1000
    public static let defaultUnreservedConcurrency = 100

    /// The route timeout in whole seconds, for messages ("within 29 seconds").
    public static var routeTimeoutSeconds: Int64 { routeTimeoutMs / 1000 }
    /// The route timeout as a duration literal (`29s`), for messages and fix-its.
    public static var routeTimeoutLiteral: String { "\(routeTimeoutSeconds)s" }
    /// The longest function timeout as a duration literal (`15m`).
    public static var maxFunctionTimeoutLiteral: String { "\(maxFunctionTimeoutMs / 60_000)m" }

    /// The account's concurrent executions (`account_concurrency`).
    public var accountConcurrency: Int
    /// What no function may reserve (`unreserved_concurrency`).
    public var unreservedConcurrency: Int

    public init(accountConcurrency: Int = PlatformLimits.defaultAccountConcurrency,
                unreservedConcurrency: Int = PlatformLimits.defaultUnreservedConcurrency) {
        self.accountConcurrency = accountConcurrency
        self.unreservedConcurrency = unreservedConcurrency
    }

    /// How much concurrency the functions may reserve between them.
    public var reservableConcurrency: Int { accountConcurrency - unreservedConcurrency }
}

/// The one retry rule's list of final failures (docs/language.md §12): the codes of refusals that
/// would fail the same way on every attempt. The local runtime's `RetryRule` and the state
/// machines' `Retry` (Emit/StepFunctions) both read it.
public enum FinalFailures {
    public static let codes: [String] = [
        "access-denied", "missing-secret", "invalid-argument", "invalid-program", "invalid-key", "type-error",
        "condition-failed",
    ]
    /// The error type a function reports to Step Functions for a service's answer that is not
    /// retried (a 4xx other than 408 and 429); other failures report their code (docs/aws.md).
    public static let refusedServiceAnswer = "service-error-4xx"
}
