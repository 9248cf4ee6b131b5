// Runtime engine: the one retry rule of queue deliveries, topic deliveries, schedule firings and
// workflow steps — which failures are worth another attempt (docs/language.md §12).
import InfcCompiler

enum RetryRule {
    /// Codes of refusals that would fail the same way on every attempt.
    static let finalCodes = Set(FinalFailures.codes)

    /// Whether another attempt could succeed: not for the refusals above, nor for a service's
    /// 4xx answer other than 408 (timeout) and 429 (too many requests) — the request itself is
    /// wrong, and sending it again would only repeat the answer (a provider may even lock the
    /// account). Thrown values, timeouts, 5xx answers and unreachable services are retried.
    static func isRetryable(_ error: RuntimeError) -> Bool {
        if finalCodes.contains(error.code) { return false }
        if error.code == "service-error" {
            let status = error.extra["status"]?.intValue ?? 500
            return !(400..<500).contains(status) || status == 408 || status == 429
        }
        return true
    }
}
