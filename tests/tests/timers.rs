//! Delays on the Xerox v2 image: they finish, last at least their duration on the image's own
//! clock, and the VM sleeps instead of spinning while every process waits.
//!
//! With the headless virtual clock (derived from bytecodes executed) a wait costs no real
//! time: when only the idle image runs, the host's clock jumps to the timer. With the real
//! clock the VM asks the host to sleep until the timer (`Host::idle`), so the process uses
//! little CPU while it waits.

use st80_headless::HeadlessHost;
use st80_tests::{evaluate, interpreter, XEROX_V2};

/// Expressions that wait, each answering true when every wait lasted at least its duration.
const WAITS: &[&str] = &[
    "| t | t _ Time millisecondClockValue. (Delay forMilliseconds: 1) wait. Time millisecondClockValue - t >= 1",
    "| t | t _ Time millisecondClockValue. (Delay forMilliseconds: 10) wait. Time millisecondClockValue - t >= 10",
    "| t | t _ Time millisecondClockValue. (Delay forMilliseconds: 100) wait. Time millisecondClockValue - t >= 100",
    // Two Delays in parallel processes: the shorter one is suspended behind the active one.
    "| s t r | s _ Semaphore new. r _ OrderedCollection new. t _ Time millisecondClockValue.
     [(Delay forMilliseconds: 80) wait. r add: 80. s signal] fork.
     [(Delay forMilliseconds: 30) wait. r add: 30. s signal] fork.
     s wait. s wait. (r asArray = #(30 80)) & (Time millisecondClockValue - t >= 80)",
    // A Delay inside a fork, the evaluating process waiting on the fork.
    "| s t | s _ Semaphore new. t _ Time millisecondClockValue.
     [(Delay forMilliseconds: 50) wait. s signal] fork. s wait. Time millisecondClockValue - t >= 50",
    // Two waits in a row in one process, and Display flash: (two 60 ms Delays).
    "| t | t _ Time millisecondClockValue. (Delay forMilliseconds: 20) wait. (Delay forMilliseconds: 20) wait.
     Display flash: (0@0 extent: 8@8). Time millisecondClockValue - t >= 160",
    // The window scheduler suspended too: only the background process runs while waiting.
    "| p t | p _ ScheduledControllers activeControllerProcess. p suspend. t _ Time millisecondClockValue.
     (Delay forMilliseconds: 100) wait. p resume. Time millisecondClockValue - t >= 100",
];

#[test]
fn delays_finish_on_the_virtual_clock() {
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    for expr in WAITS {
        // 100 ms of virtual time is 100,000 bytecodes: a wait that spun instead of jumping
        // the clock to the timer would still finish, but these budgets catch one that hangs.
        assert_eq!(evaluate(&mut vm, &mut host, expr, 20_000_000), "true", "{expr}");
    }
    // A long wait costs no bytecodes beyond the idle polling: the clock jumps to the timer.
    let start = vm.cycles();
    let expr = "| t | t _ Time millisecondClockValue. (Delay forSeconds: 30) wait. Time millisecondClockValue - t";
    let waited: u32 = evaluate(&mut vm, &mut host, expr, 20_000_000).parse().expect("an Integer");
    assert!(waited >= 30_000, "waited {waited} ms");
    assert!(vm.cycles() - start < 10_000_000, "30 s took {} bytecodes: the clock did not jump", vm.cycles() - start);
}

/// CPU time (user + system) of the calling thread in seconds, where /proc has it.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0) // USER_HZ is 100 on Linux
}

#[test]
fn the_vm_sleeps_while_every_process_waits_on_a_timer() {
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    if thread_cpu_seconds().is_none() {
        eprintln!("SKIPPED: no /proc/thread-self/stat to read CPU time from");
        return;
    }
    vm.use_host_clock();
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    for expr in WAITS {
        assert_eq!(evaluate(&mut vm, &mut host, expr, 2_000_000_000), "true", "{expr}");
    }
    // Waits long enough for the CPU clock's 10 ms ticks: the window scheduler polling the
    // mouse (the evaluation waits), then only the background process (the scheduler
    // suspended too).
    let cases = [
        "| s | s _ Semaphore new. [(Delay forMilliseconds: 400) wait. s signal] fork.
         [(Delay forMilliseconds: 300) wait. s signal] fork. s wait. s wait. 3",
        "| p | p _ ScheduledControllers activeControllerProcess. p suspend.
         (Delay forMilliseconds: 400) wait. p resume. 3",
    ];
    for expr in cases {
        let (wall, cpu, cycles) = (std::time::Instant::now(), thread_cpu_seconds().unwrap(), vm.cycles());
        assert_eq!(evaluate(&mut vm, &mut host, expr, 2_000_000_000), "3");
        let (wall, cpu) = (wall.elapsed().as_secs_f64(), thread_cpu_seconds().unwrap() - cpu);
        let cycles = vm.cycles() - cycles;
        eprintln!("{cpu:.3} s of CPU and {cycles} bytecodes in {wall:.3} s");
        // Two views of the same thing, neither about speed: CPU time (which a busy machine
        // can understate, never overstate) and the bytecodes run while waiting (a correct VM
        // runs one poll interval per wake-up, a spinning one tens of millions on a fast host).
        assert!(cpu < 0.5 * wall, "{expr}: {cpu:.3} s of CPU in {wall:.3} s: the VM spun instead of sleeping");
        assert!(cycles < 3_000_000, "{expr}: {cycles} bytecodes while waiting: the VM spun instead of sleeping");
    }
}
