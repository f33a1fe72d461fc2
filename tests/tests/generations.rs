//! The generational collector on the real image: booted and running programs that store new
//! objects into old ones (a global collection growing, a method compiled into a method
//! dictionary), with every minor collection checked against a full mark of the same moment
//! (`ObjectMemory::verify_generations`). One store the write barrier missed would show as an
//! error there, and as a freed live object in the answers.

use st80_core::StopReason;
use st80_headless::HeadlessHost;
use st80_tests::{evaluate, interpreter, XEROX_V2};

#[test]
fn minor_collections_keep_everything_the_image_still_reaches() {
    let Some(mut vm) = interpreter(XEROX_V2) else {
        return;
    };
    vm.memory.verify_generations = true;
    let mut host = HeadlessHost::new();
    // Boot and idle: the workload of ci/perf.sh.
    assert_eq!(st80_headless::run(&mut vm, &mut host, 2_200_000), StopReason::CyclesDone);
    // An old global Array filled with new strings, through at:put: and a block.
    let fill = "Smalltalk at: #GenerationsTest put: (Array new: 3000). \
                1 to: 3000 do: [:i | (Smalltalk at: #GenerationsTest) at: i put: i printString]. \
                (Smalltalk at: #GenerationsTest) size";
    assert_eq!(evaluate(&mut vm, &mut host, fill, 20_000_000), "3000");
    // A method compiled into Object's (old) method dictionary, then sent.
    let compile = "Object compile: 'generationsTest ^(1 to: 10) inject: 0 into: [:a :b | a + b]' \
                   classified: 'tests' notifying: nil. nil generationsTest";
    assert_eq!(evaluate(&mut vm, &mut host, compile, 20_000_000), "55");
    // New objects made after those: the strings and the method must have survived them.
    let churn = "| t | t _ 0. 1 to: 20000 do: [:i | t _ t + (i @ i) x printString size]. t";
    assert_eq!(evaluate(&mut vm, &mut host, churn, 50_000_000), "88894");
    let sum = "(Smalltalk at: #GenerationsTest) inject: 0 into: [:a :s | a + s asNumber]";
    assert_eq!(evaluate(&mut vm, &mut host, sum, 20_000_000), (3000 * 3001 / 2).to_string());
    assert_eq!(evaluate(&mut vm, &mut host, "nil generationsTest", 1_000_000), "55");
    // The image's Benchmark suite (what `st80 bench` runs): collections grow by `become:`,
    // old and young objects trading fields between minor collections.
    let suite = "Benchmark setStandardTests. (Benchmark classPool at: #StandardTests) \
                 inject: 0 into: [:n :t | Benchmark new perform: t. n + 1]";
    assert_eq!(evaluate(&mut vm, &mut host, suite, 200_000_000), "53");
    assert_eq!(evaluate(&mut vm, &mut host, sum, 20_000_000), (3000 * 3001 / 2).to_string());
    let (all, full) = (vm.memory.gc_count, vm.memory.full_gc_count);
    assert!(all - full >= 10, "only {} minor collections of {all}", all - full);
    assert_eq!(vm.memory.generation_errors, 0, "live objects a minor collection would have freed");
}
