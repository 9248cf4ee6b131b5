// Fuzzing: the front end, the whole pipeline of `infc check`, `build`, `explain` and `graph`
// (parse, resolve, check, infer, budget, emit), on arbitrary bytes. A libFuzzer target (scripts/fuzz.sh builds it
// with -sanitize=fuzzer,address and assertions on): a crash, an assertion (a parser loop that
// made no progress) or a run over the time limit (a hang) is a finding.
import InfcCompiler

@_cdecl("LLVMFuzzerTestOneInput")
public func frontendFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = SourceFile(path: "fuzz.inf", bytes: Array(UnsafeBufferPointer(start: data, count: size)))
    let compilation = Compilation.compile(file)
    _ = DiagnosticRenderer().text(compilation.diagnostics, in: file)
    // What build, explain and graph do with it (the CLI refuses to build a program with errors;
    // the emitters must still not crash on one).
    _ = ManifestEmitter.emit(compilation)
    _ = Explainer.explain(compilation)
    for format in GraphRenderer.Format.allCases { _ = GraphRenderer.render(GraphBuilder.build(compilation), as: format) }
    return 0
}
