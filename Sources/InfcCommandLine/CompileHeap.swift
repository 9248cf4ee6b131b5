// infc driver: the heap of a command that compiles once and exits — grown 256 MiB at a time over
// transparent huge pages, so that a big program's tree costs a few 2 MiB page faults instead of
// thousands of 4 KiB ones.
import CMalloc
import Glibc

enum CompileHeap {
    private static let hugePage: UInt = 2 << 20

    /// For `check`, `build`, `explain` and `graph`. The 20k-line benchmark app touched 14 MiB of
    /// heap in 3,500 page faults, a quarter of the command's time in the kernel on a VM where a
    /// fault costs about 3 µs; over huge pages it takes about 1,000 (interleaved, task-clock
    /// 38 → 33 ms on average, system time 10–15 → 5–7 ms). The process gives everything back
    /// at exit, so its heap is never trimmed and big arrays come from it too. The step is big
    /// enough for the 200k-line app (140 MiB): with 64 MiB only the first step was advised, and
    /// that app still took 18,900 faults (1,000–1,250 now, and about a tenth less time). It is
    /// address space: only the pages a compile touches are memory. Long-running
    /// commands (`lsp`, `run`) keep glibc's defaults. Every step is a hint: where huge pages
    /// are off or a call fails, the compile runs as before.
    static func prepareForOneCompile() {
        _ = mallopt(M_MMAP_THRESHOLD, 64 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
        _ = mallopt(M_TOP_PAD, 256 << 20)
        // An allocation past what the heap holds makes it grow now, by the pad; the new part is
        // advised for huge pages (the kernel's usual THP mode, `madvise`, uses them only there).
        guard let probe = malloc(1 << 20) else { return }
        defer { free(probe) }
        let start = (UInt(bitPattern: probe) + hugePage - 1) & ~(hugePage - 1)
        let end = UInt(bitPattern: sbrk(0))
        guard end > start + hugePage, let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(base, Int(end - start), MADV_HUGEPAGE)
    }
}
