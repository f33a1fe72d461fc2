//! `st80 eval`, `st80 filein` and `st80 bench` against the real images.
//!
//! Expected values follow the Blue Book's semantics (floor `//` and `\\`, truncating `quo:` and
//! `rem:`, LargeInteger overflow) and the image's own `printOn:` methods (e.g. Array prints as
//! `(1 2 3 )`, Fraction as `(1/2)`, Symbol without `#`), never our VM's output.

use std::path::Path;
mod common;

use common::*;

/// (expression, expected printString)
const TABLE: &[(&str, &str)] = &[
    // SmallInteger arithmetic and its edges.
    ("3 + 4", "7"),
    ("3 - 10", "-7"),
    ("-1 // 2", "-1"),
    ("7 // -2", "-4"),
    ("-7 \\\\ 2", "1"),
    ("7 \\\\ -2", "-1"),
    ("-7 rem: 2", "-1"),
    ("-7 quo: 2", "-3"),
    ("16383 class", "SmallInteger"),
    ("(16383 + 1) class", "LargePositiveInteger"),
    ("16383 + 1", "16384"),
    ("(-16384 - 1) class", "LargeNegativeInteger"),
    ("1 bitShift: 32", "4294967296"),
    ("(1 bitShift: 32) bitShift: -32", "1"),
    ("1000000 * 1000000", "1000000000000"),
    // Large integers.
    ("100 factorial printString size", "158"),
    ("(100 factorial printString copyFrom: 1 to: 12)", "'933262154439'"),
    ("2 raisedTo: 100", "1267650600228229401496703205376"),
    ("(2 raisedTo: 100) // (2 raisedTo: 98)", "4"),
    ("100 factorial / 98 factorial", "9900"),
    ("(2 raisedTo: 64) - (2 raisedTo: 64) + 5", "5"),
    // Fractions and floats.
    ("(1/3) + (2/3)", "1"),
    ("(1/3) + (1/6)", "(1/2)"),
    ("7 / 2", "(7/2)"),
    ("(1/2) < (2/3)", "true"),
    ("3.5 * 2", "7.0"),
    ("1.5 + 1", "2.5"),
    ("7.9 truncated", "7"),
    ("-7.9 truncated", "-7"),
    // Strings, symbols, characters.
    ("'hello' , ' world'", "'hello world'"),
    ("'hello' reverse", "'olleh'"),
    ("'hello' size", "5"),
    ("'hello' asUppercase", "'HELLO'"),
    ("#with:with: numArgs", "2"),
    ("#foo:bar:", "foo:bar:"),
    ("$a asInteger", "97"),
    ("97 asCharacter", "$a"),
    ("'it''s' size", "4"),
    // Collections.
    ("#(1 $a 'str' #sym) size", "4"),
    ("Array new: 3", "(nil nil nil )"),
    ("#(3 1 2) asSortedCollection asArray", "(1 2 3 )"),
    ("(OrderedCollection new addFirst: 1; addLast: 2; addFirst: 0; yourself) asArray", "(0 1 2 )"),
    ("(OrderedCollection new add: 5; add: 6; yourself)", "OrderedCollection (5 6 )"),
    ("(Dictionary new at: #a put: 1; at: #b put: 2; yourself) size", "2"),
    ("(Dictionary new at: #a put: 1; yourself) at: #a", "1"),
    ("(Set new add: 1; add: 1; add: 2; yourself) size", "2"),
    ("(1 to: 10) inject: 0 into: [:a :b | a + b]", "55"),
    ("(1 to: 10 by: 2) asArray", "(1 3 5 7 9 )"),
    ("#(1 2 3) collect: [:x | x * x]", "(1 4 9 )"),
    ("#(1 2 3 4) select: [:x | x even]", "(2 4 )"),
    ("#(1 2 3 4) detect: [:x | x > 2]", "3"),
    ("(#(5 3 9 1) asSortedCollection: [:a :b | a > b]) first", "9"),
    // Blocks and non-local return.
    ("[:x :y | x * y] value: 6 value: 7", "42"),
    ("#(1 2 3) do: [:x | x = 2 ifTrue: [^x * 10]]. 0", "20"),
    ("| sum | sum _ 0. 1 to: 100 do: [:i | sum _ sum + i]. sum", "5050"),
    // (Blocks are not re-entrant in Smalltalk-80, so no recursive block here.)
    ("(1 to: 20) inject: 1 into: [:a :b | a * b]", "2432902008176640000"),
    // Processes and semaphores.
    ("| s r | s _ Semaphore new. r _ 0. [r _ 42. s signal] fork. s wait. r", "42"),
    ("| s | s _ Semaphore new. s signal; signal. s wait. s wait. #done", "done"),
    ("| s log | s _ Semaphore new. log _ OrderedCollection new. [log add: 1. s signal] forkAt: Processor userInterruptPriority + 1. s wait. log add: 2. log asArray", "(1 2 )"),
    // Points and rectangles.
    ("(3@4) + (1@1)", "4@5"),
    ("(3@4) x", "3"),
    ("((1@2) corner: (3@4)) width", "2"),
    ("((0@0) extent: (10@20)) area", "200"),
    ("(0@0) corner: (10@20)", "0@0 corner: 10@20"),
    // Objects.
    ("nil isNil", "true"),
    ("3 even", "false"),
    ("3 class class class", "Metaclass"),
    ("(3 @ 4) class", "Point"),
];

fn check_table(name: &str) {
    let Some(path) = image(name) else { return };
    let mut args: Vec<&std::ffi::OsStr> = vec!["eval".as_ref(), path.as_os_str(), "--".as_ref()];
    args.extend(TABLE.iter().map(|(e, _)| std::ffi::OsStr::new(*e)));
    let out = st80(&args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "st80 eval on {name} failed: {:?}\n{stdout}\n{}", out.status, text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), TABLE.len(), "one line per expression on {name}:\n{stdout}");
    let mut wrong = Vec::new();
    for ((expr, expected), got) in TABLE.iter().zip(&lines) {
        if got != expected {
            wrong.push(format!("  {expr}\n    expected {expected}\n    got      {got}"));
        }
    }
    assert!(wrong.is_empty(), "{name}: {} of {} expressions differ:\n{}", wrong.len(), TABLE.len(), wrong.join("\n"));
}

#[test]
fn expression_table_on_the_xerox_image() {
    assert!(TABLE.len() >= 40);
    check_table(XEROX_V2);
}

#[test]
fn expression_table_on_dbanays_snapshot() {
    check_table(DBANAY_SNAPSHOT);
}

#[test]
fn compile_errors_runtime_errors_and_timeouts() {
    let Some(path) = image(XEROX_V2) else { return };
    let out = st80(&["eval".as_ref(), path.as_os_str(), "3 + ".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("compile error: Argument expected"), "{err}");
    assert_eq!(err.matches("expected").count(), 1, "the message once, the code once: {err}");
    assert!(err.contains("3 + <-here"), "the error's position is marked: {err}");

    let out = st80(&["eval".as_ref(), path.as_os_str(), "3 zork".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("Message not understood: zork"), "{err}");
    assert!(err.contains("SmallInteger(Object)>>doesNotUnderstand:"), "a short stack: {err}");
    assert!(err.contains("UndefinedObject>>DoIt"), "{err}");

    let out = st80(&["eval".as_ref(), path.as_os_str(), "nil error: 'boom'".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("boom"));

    let started = std::time::Instant::now();
    let out =
        st80(&["eval".as_ref(), path.as_os_str(), "[true] whileTrue".as_ref(), "--timeout".as_ref(), "2".as_ref()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("timed out"));
    assert!(started.elapsed().as_secs() < 60, "the timeout must end the run");
}

#[test]
fn eval_evaluates_every_expression_and_reports_each_error() {
    let Some(path) = image(XEROX_V2) else { return };
    let exprs = ["3 + 4", "3 zork", "'a', 'b'", "3 +", "6 * 7"];
    let mut args: Vec<&std::ffi::OsStr> = vec!["eval".as_ref(), path.as_os_str()];
    args.extend(exprs.iter().map(std::ffi::OsStr::new));
    let out = st80(&args);
    assert_eq!(out.status.code(), Some(1), "an expression failed");
    assert_eq!(text(&out.stdout), "7\n'ab'\n42\n", "the good ones still answer");
    let err = text(&out.stderr);
    assert!(err.contains("expression 2: error: Message not understood: zork"), "{err}");
    assert!(err.contains("expression 4: compile error"), "{err}");
    assert!(err.contains("2 of 5 expression(s) failed"), "{err}");
}

#[test]
fn bench_with_an_unknown_test_says_so_in_one_line() {
    let Some(path) = image(XEROX_V2) else { return };
    let out = st80(&["bench".as_ref(), path.as_os_str(), "--test".as_ref(), "nosuch".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--test nosuch: Benchmark has no such test"), "{err}");
    assert!(!err.contains("doesNotUnderstand"), "{err}");
}

#[test]
fn filling_the_object_table_is_reported_not_fatal() {
    let Some(path) = image(XEROX_V2) else { return };
    // 40000 objects cannot fit in 32768 object pointers.
    let out = st80(&["eval".as_ref(), path.as_os_str(), "(1 to: 40000) collect: [:i | Object new]. 3".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Space is low"), "{}", text(&out.stderr));
}

#[test]
fn eval_never_writes_the_image() {
    let Some(path) = image(XEROX_V2) else { return };
    let copy = scratch("untouched").join("untouched.image");
    std::fs::copy(&path, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let out = st80(&["eval".as_ref(), copy.as_os_str(), "Smalltalk at: #Probe put: 42".as_ref()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    assert!(!Path::new(&format!("{}.bak", copy.display())).exists());
}

const GREETER: &str = "Object subclass: #Greeter\n\tinstanceVariableNames: 'name'\n\tclassVariableNames: ''\n\
    \tpoolDictionaries: ''\n\tcategory: 'St80-Test'!\n\n!Greeter methodsFor: 'greeting'!\nname: aString\n\
    \tname _ aString!\ngreet\n\t^'Hello, ', name, '!!'! !\n\n!Greeter class methodsFor: 'instance creation'!\n\
    named: aString\n\t^self new name: aString! !\n";

#[test]
fn filein_then_save_then_eval_the_saved_image() {
    for name in [XEROX_V2, DBANAY_SNAPSHOT] {
        let Some(path) = image(name) else { return };
        let tag = name.replace('/', "-");
        let dir = scratch(&format!("greeter-{tag}"));
        let src = dir.join("greeter.st");
        std::fs::write(&src, GREETER).unwrap();
        let saved = dir.join("greeter.image");
        let out = st80(&["filein".as_ref(), path.as_os_str(), src.as_os_str(), "--save".as_ref(), saved.as_os_str()]);
        assert!(out.status.success(), "filein on {name}: {}", text(&out.stderr));
        assert_eq!(byte_order(&saved), byte_order(&path), "saved in the byte order it was loaded in");
        let out = st80(&["eval".as_ref(), saved.as_os_str(), "(Greeter named: 'world') greet".as_ref()]);
        assert!(out.status.success(), "eval on the saved image: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), "'Hello, world!'");
    }
}

#[test]
fn filein_reports_compile_errors_with_file_and_line() {
    let Some(path) = image(XEROX_V2) else { return };
    let src = scratch("broken").join("broken.st");
    std::fs::write(&src, "!Object methodsFor: 'broken'!\nfine\n\t^1!\nbroken\n\t^3 + ! !\n").unwrap();
    let out = st80(&["filein".as_ref(), path.as_os_str(), src.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:5: compile error", src.display())), "{err}");
    assert_eq!(err.matches("compile error").count(), 1, "only the broken method fails: {err}");
}

#[test]
fn transcript_goes_to_stdout() {
    let Some(path) = image(XEROX_V2) else { return };
    let out = st80(&[
        "eval".as_ref(),
        path.as_os_str(),
        "--transcript".as_ref(),
        "Transcript show: 'hi there'; cr. 7".as_ref(),
    ]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "hi there\n7\n");
}

#[test]
fn bench_runs_every_standard_test() {
    let Some(path) = image(XEROX_V2) else { return };
    let out = st80(&["bench".as_ref(), path.as_os_str(), "--json".as_ref()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = text(&out.stdout);
    // Every selector of Benchmark's StandardTests (read from the image's source).
    for test in
        ["testLoadInstVar", "testActivationReturn", "testCompiler", "testDecompiler", "testTextEditing", "testBitBLT"]
    {
        assert!(json.contains(&format!("\"name\":\"{test}\"")), "{test} missing from {json}");
    }
    assert_eq!(json.matches("\"name\":").count(), 53, "the v2 image has 53 standard tests");
    assert!(!json.contains("\"ok\":false"), "{json}");
    assert!(json.contains("\"total_seconds\":") && json.contains("\"bytecodes_per_second\":"));
    assert!(text(&out.stderr).contains("[53/53]"), "progress on stderr");
    // The suite allocates enough to collect, and a full collection of its heap was timed.
    let report: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    assert!(report["gcs"].as_u64().is_some_and(|n| n > 0), "{}", report["gcs"]);
    let (median, max) = (report["gc_pause_ms"]["median"].as_f64(), report["gc_pause_ms"]["max"].as_f64());
    assert!(median.is_some_and(|m| m > 0.0) && median <= max, "{}", report["gc_pause_ms"]);
}
