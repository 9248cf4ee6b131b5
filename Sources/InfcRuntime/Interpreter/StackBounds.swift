// Runtime stage (interpreter): how far down the current thread's stack the evaluator may go.
// Deep (but legal) programs on small thread stacks end in a `.callDepth` error, not a crash.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum StackBounds {
    /// The stack kept free below the evaluator for the host and the C libraries it calls.
    static let reserve: UInt = 192 * 1024
    /// Assumed when the thread's stack cannot be asked for.
    static let assumedStack: UInt = 512 * 1024

    /// The lowest stack address the evaluator may reach on the calling thread.
    static func lowestSafeAddress() -> UInt {
        let here = currentAddress()
        guard let (low, size) = isMainThread() ? mainThreadStack : threadStack() else {
            return here > assumedStack ? here - assumedStack + reserve : 0
        }
        let margin = min(reserve, size / 4)
        return low + margin
    }

    /// Roughly the current stack pointer.
    @inline(__always)
    static func currentAddress() -> UInt {
        var marker: UInt8 = 0
        return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
    }

    /// Asking glibc for the main thread's stack reads /proc, so it is done once.
    private static let mainThreadStack: (UInt, UInt)? = threadStack()

    #if os(Linux)
    // Glibc's module map hides the GNU extensions, so they are looked up by name.
    private typealias GetAttr = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
    private typealias GetTID = @convention(c) () -> pid_t
    private static let getattr: GetAttr? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_getattr_np")
        .map { unsafeBitCast($0, to: GetAttr.self) }
    private static let gettid: GetTID? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gettid")
        .map { unsafeBitCast($0, to: GetTID.self) }
    #endif

    private static func isMainThread() -> Bool {
        #if os(Linux)
        return gettid.map { getpid() == $0() } ?? false
        #else
        return pthread_main_np() != 0
        #endif
    }

    private static func threadStack() -> (UInt, UInt)? {
        #if os(Linux)
        var attr = pthread_attr_t()
        guard let getattr, getattr(pthread_self(), &attr) == 0 else { return nil }
        defer { pthread_attr_destroy(&attr) }
        var address: UnsafeMutableRawPointer?
        var size = 0
        guard pthread_attr_getstack(&attr, &address, &size) == 0, let address, size > 0 else { return nil }
        return (UInt(bitPattern: address), UInt(size))
        #elseif canImport(Darwin)
        let top = UInt(bitPattern: pthread_get_stackaddr_np(pthread_self()))
        let size = UInt(pthread_get_stacksize_np(pthread_self()))
        return (top - size, size)
        #else
        return nil
        #endif
    }
}
