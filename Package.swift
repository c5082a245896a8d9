// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "chainrule",
    products: [
        .executable(name: "chainrule", targets: ["chainrule"]),
        .library(name: "ChainruleCore", targets: ["ChainruleCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The language, tensors, the graph, forward and reverse evaluation.
        // Pure: no I/O; its only global state is OpenBLAS's thread count and, when a
        // binary asks, the C allocator's thresholds.
        .target(
            name: "ChainruleCore",
            dependencies: ["COpenBLAS", "CAllocator"]
        ),

        // OpenBLAS (cblas_dgemm, cblas_dgemv) for matrix products.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),

        // glibc's mallopt, to keep large freed blocks for reuse.
        .systemLibrary(name: "CAllocator", path: "Sources/CAllocator"),

        // Commands, formatting, JSON and the read–evaluate–print loop,
        // talking to an abstract line reader and output sink.
        .target(name: "ChainruleSession", dependencies: ["ChainruleCore"]),

        // libedit, behind non-variadic C wrappers.
        .target(
            name: "CEditLine",
            linkerSettings: [.linkedLibrary("edit")]
        ),

        // The thin executable: command line, terminals, colour, libedit.
        .executableTarget(
            name: "chainrule",
            dependencies: [
                "ChainruleCore",
                "ChainruleSession",
                "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Timings of the forward and reverse passes and of matmul, for scripts/bench.
        .executableTarget(name: "chainrule-bench", dependencies: ["ChainruleCore"]),

        // The libFuzzer target over the whole pipeline, for scripts/fuzz; a plain build replays files.
        .executableTarget(name: "chainrule-fuzz", dependencies: ["ChainruleSession"]),

        // Tests, one target per layer, sharing one support target (temporary folders).
        .target(name: "ChainruleTestSupport", path: "Tests/ChainruleTestSupport"),
        .testTarget(name: "ChainruleCoreTests", dependencies: ["ChainruleCore", "CAllocationCounter", "ChainruleTestSupport"]),

        // For tests: counts the test process's allocations (its malloc forwards to glibc's).
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(
            name: "ChainruleSessionTests",
            dependencies: ["ChainruleCore", "ChainruleSession", "ChainruleTestSupport"],
            exclude: ["Transcripts"]
        ),
        .testTarget(name: "ChainruleCLITests", dependencies: ["chainrule", "ChainruleTestSupport"]),
    ]
)
