import ChainruleCore
import Glibc

// The common command lines are read by hand; help, version, usage errors and rarer
// spellings by ArgumentParser (see `Options`).
let words = Array(CommandLine.arguments.dropFirst())
let options = Options.read(words) ?? Chainrule.options(parsing: words)
// Past a file-size limit (`ulimit -f`) a write should fail with an error that is reported,
// not end the process.
signal(SIGXFSZ, SIG_IGN)
Allocator.keepLargeBlocks()
Launcher(options: options).run()
