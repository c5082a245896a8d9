// The fuzz target: libFuzzer calls `LLVMFuzzerTestOneInput` with each input it tries.
//
//   scripts/fuzz [SECONDS]          build with -sanitize=fuzzer,address and fuzz (see the README)
//   chainrule-fuzz FILE...          (plain build) run each file through the same pipeline,
//                                   printing how much it wrote, to reproduce a crash without sanitizers
//
// Built with `-D CHAINRULE_FUZZ`, `main` hands over to libFuzzer's driver; without it the
// target is an ordinary executable, so `swift build` needs no special flags.
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Pipeline.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

#if CHAINRULE_FUZZ
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

@main
enum Entry {
    static func main() {
        #if CHAINRULE_FUZZ
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
        #else
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            complain("usage: chainrule-fuzz FILE...   (scripts/fuzz builds the fuzzer itself)")
            exit(2)
        }
        for path in paths {
            guard let file = fopen(path, "rb") else {
                complain("chainrule-fuzz: cannot read '\(path)'")
                exit(1)
            }
            var bytes = [UInt8](repeating: 0, count: Pipeline.maxBytes)
            let count = fread(&bytes, 1, bytes.count, file)
            fclose(file)
            let written = bytes.withUnsafeBytes { Pipeline.run(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            print("\(path): \(count) bytes in, \(written) bytes out")
        }
        #endif
    }

    static func complain(_ message: String) {
        let bytes = Array((message + "\n").utf8)
        _ = write(2, bytes, bytes.count)
    }
}
