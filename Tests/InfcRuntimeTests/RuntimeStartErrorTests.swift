// Runtime tests: start-up errors read as one line.
import Testing
@testable import InfcRuntime

@Test func startErrorDescribesItself() {
    #expect(RuntimeStartError("no manifest in build/").description == "no manifest in build/")
}
