// Runtime engine tests: the runtime's buffered standard output — a writer never blocks on a
// reader that is slow or gone, whole lines leave in order, and drops are counted.
import InfcTestSupport
import Foundation
import Glibc
import Testing
@testable import InfcRuntime

@Suite struct LogOutputTests {
    /// Reads a pipe until `bytes` arrived, or until it has been quiet for `quiet` seconds, or
    /// 10 s passed.
    private func drain(_ fd: Int32, bytes: Int = .max, quiet: Double = 10) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(10)
        var lastData = Date()
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        while out.count < bytes && Date() < deadline && Date().timeIntervalSince(lastData) < quiet {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                out += chunk[0..<n]
                lastData = Date()
            } else {
                usleep(1_000)
            }
        }
        return out
    }

    @Test func aWriterNeverWaitsForAnUnreadPipeAndDropsAreCounted() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let output = BufferedStandardOutput(descriptor: fds[1], limitBytes: 256 * 1024)
        let line = String(repeating: "x", count: 99)  // 100 bytes with its newline
        // 1 MB for a pipe that holds 64 KB and that nobody reads yet. Were a writer to write
        // itself, it would block on the full pipe: the writes run on a thread of their own,
        // waited for with a deadline, so that such a regression fails instead of hanging.
        let dropped = Locked(-1)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var sum = 0
            for i in 0..<10_000 {
                if i % 1_000 == 0 { usleep(20_000) }  // lets the flusher fill the pipe and block
                sum += output.write(line: line)
            }
            dropped.withValue { $0 = sum }
            finished.signal()
        }
        #expect(finished.wait(timeout: .now() + 30) == .success)
        // The pipe and the buffer filled and later lines were dropped; none was reported yet,
        // because no line has fitted since.
        #expect(dropped.withValue { $0 } == 0)

        // Read until the pipe is quiet: the buffer has emptied, so the next line fits and
        // carries the count, which accounts for every line that did not arrive.
        let received = drain(fds[0], quiet: 0.5)
        let reported = output.write(line: "after")
        let arrived = received.filter { $0 == 10 }.count
        #expect(reported > 0)
        #expect(arrived + reported == 10_000)
        #expect(received.count >= 256 * 1024)
        // Every line that left is whole: 99 x's, then a newline.
        let lines = received.split(separator: 10, omittingEmptySubsequences: false).dropLast()
        #expect(lines.allSatisfy { $0.count == 99 && $0.allSatisfy { $0 == UInt8(ascii: "x") } })
    }

    @Test func linesLeaveWholeAndInOrderWithoutAFlush() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let output = BufferedStandardOutput(descriptor: fds[1], limitBytes: 1 << 20)
        for i in 0..<100 { output.write(line: "line \(i)") }
        let expected = (0..<100).map { "line \($0)\n" }.joined()
        let received = drain(fds[0], bytes: expected.utf8.count)
        #expect(String(decoding: received, as: UTF8.self) == expected)
    }
}
