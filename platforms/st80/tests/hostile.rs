//! Hostile Smalltalk through `st80 eval` on both images: each program ends in a primitive
//! failure or an image-level error (an `error:` with its message, the low-space error), never in
//! a panic, an abort, a host stack overflow or a stopped VM; and the session goes on (the next
//! expression answers).

use st80_tests::{image, DBANAY_SNAPSHOT, XEROX_V2};
use std::path::{Path, PathBuf};

mod common;

use common::{st80, text};

/// A scratch directory holding a copy of the image (the programs may write into it).
fn scratch(name: &str, image_name: &str) -> Option<(PathBuf, PathBuf)> {
    let src = image(image_name)?;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("st80-hostile-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("files")).unwrap();
    let img = dir.join("hostile.im");
    std::fs::copy(&src, &img).unwrap();
    Some((dir, img))
}

/// Runs the expressions then `3 + 4`; answers stdout and stderr after checking that the VM
/// survived: exit status 0 or 1 (an expression failed), no panic, no stop, and `7` last.
fn survive(dir: &Path, img: &Path, exprs: &[&str]) -> (String, String) {
    let files = dir.join("files");
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["eval".as_ref(), "--files".as_ref(), files.as_os_str(), "--timeout".as_ref(), "300".as_ref()];
    args.push(img.as_os_str());
    args.push("--".as_ref());
    args.extend(exprs.iter().map(std::ffi::OsStr::new));
    args.push("3 + 4".as_ref());
    let out = st80(&args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(matches!(out.status.code(), Some(0 | 1)), "{exprs:?}: status {:?}\n{stderr}", out.status);
    assert!(!stderr.contains("panicked") && !stderr.contains("virtual machine stopped"), "{exprs:?}:\n{stderr}");
    assert_eq!(stdout.lines().last(), Some("7"), "{exprs:?}: the session goes on\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// Each hostile expression with the error it must end in.
const CASES: &[(&str, &str)] = &[
    ("Object compile: 'hostileRecur ^self hostileRecur' classified: 'hostile'. nil hostileRecur", "Space is low"),
    ("| a | a _ OrderedCollection new. [true] whileTrue: [a add: (String new: 60000)]", "Space is low"),
    ("| a | a _ OrderedCollection new. [true] whileTrue: [a add: (Array new: 1000)]", "Space is low"),
    ("(1 to: 40000) collect: [:i | Object new]", "Space is low"),
    // A block cannot run inside itself in Smalltalk-80 (its context is its activation): the
    // value primitives fail for a block already being executed, as the image's comment says.
    ("[:b | b value: b] value: [:b | b value: b]", "Incompatible number of args, or already active"),
    ("Array new: 65534", "a primitive has failed"),
    ("3 become: 4", "a primitive has failed"),
    ("nil become: 3", "a primitive has failed"),
    ("3 become: Object new", "a primitive has failed"),
    // Objects the VM names by oop keep their identity; Smalltalk may still grow by become:.
    ("Array become: (3 @ 4)", "a primitive has failed"),
    ("nil become: Object new", "a primitive has failed"),
    // The running context too: the interpreter's registers describe it.
    ("thisContext become: Object new", "a primitive has failed"),
    ("(Array new: 3) at: 4", "subscript is out of bounds: 4"),
    ("(Array new: 3) at: 0 put: 1", "subscript is out of bounds: 0"),
    ("'abc' at: 1 put: 3", "Strings only store Characters"),
    ("(Array new: 3) instVarAt: 5", "subscript is out of bounds: 5"),
    ("Object new instVarAt: 1", "subscript is out of bounds: 1"),
    // The image's fallback indexes past the named fields: 3 - 2.
    ("(3 @ 4) instVarAt: 3 put: 0", "subscript is out of bounds: 1"),
    ("Array new: -1", "a primitive has failed"),
    ("String new: -5", "a primitive has failed"),
    ("3 perform: #+ with: 4 with: 5", "Message not understood: +"),
    ("3 perform: #between:and: with: 4", "Message not understood: between:and:"),
    ("3 perform: #+ withArguments: #(1 2)", "Message not understood: +"),
];

fn hostile_cases(image_name: &str) {
    let Some((dir, img)) = scratch(&format!("cases-{}", image_name.replace('/', "-")), image_name) else { return };
    for &(expr, error) in CASES {
        let (_, stderr) = survive(&dir, &img, &[expr]);
        assert!(stderr.contains(&format!("expression 1: error: {error}")), "{image_name}: {expr}\n{stderr}");
    }
    let (stdout, _) = survive(
        &dir,
        &img,
        &["1 to: 300 do: [:i | Smalltalk at: ('HostileGlobal', i printString) asSymbol put: i]. (Smalltalk at: #HostileGlobal300)"],
    );
    assert!(stdout.starts_with("300\n"), "{image_name}: Smalltalk grows by become: {stdout}");
    // The same runaway programs with the image's low-space limits switched off: the VM's own
    // reserve still stops them, and the space comes back.
    for &(expr, _) in &CASES[..4] {
        let (stdout, stderr) = survive(&dir, &img, &["Smalltalk signal: nil atOopsLeft: 0 wordsLeft: 0. 0", expr]);
        assert!(stdout.starts_with("0\n"), "{stdout}");
        assert!(stderr.contains("expression 2: error: Space is low"), "{image_name}: limits off: {expr}\n{stderr}");
    }
}

#[test]
fn hostile_programs_end_in_errors_on_the_xerox_image() {
    hostile_cases(XEROX_V2);
}

#[test]
fn hostile_programs_end_in_errors_on_dbanays_snapshot() {
    hostile_cases(DBANAY_SNAPSHOT);
}

/// Every primitive the VM has (but quit, exitToDebugger, become: and perform:, which do as
/// asked), declared by methods with 0, 1 and 2 arguments (right and wrong counts), sent to
/// receivers of every kind with arguments of every kind; the longer primitives get their own
/// count with a few kinds. Each send answers the primitive's result or `#failed` from the
/// method's fallback code.
const PRIMITIVES: &[u16] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 85, 86, 87, 88, 89,
    90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 110, 111, 112, 115, 116, 128, 130, 131, 132,
    133,
];

const VALUES: &str = "| values | values _ Array new: 16.
values at: 1 put: nil; at: 2 put: true; at: 3 put: 3; at: 4 put: -1; at: 5 put: 0; at: 6 put: 16383;
 at: 7 put: 'abc' copy; at: 8 put: #abc; at: 9 put: (Array with: 1 with: 2); at: 10 put: 3.5;
 at: 11 put: 100000; at: 12 put: $a; at: 13 put: Object new; at: 14 put: 3 @ 4;
 at: 15 put: (Form extent: 16 @ 16); at: 16 put: -100000.
Smalltalk at: #HostileValues put: values. values size";

fn sweep_expression(p: u16) -> String {
    let long = match p {
        116 | 130 | 131 => 3,
        105 => 4,
        103 => 6,
        _ => 0,
    };
    let mut e = format!(
        "| values few n sel p | p _ {p}. values _ Smalltalk at: #HostileValues. n _ 0.
few _ Array with: 0 with: nil with: 'abc' with: (values at: 15).
Object compile: 'hp', p printString, ' <primitive: ', p printString, '> ^#failed' classified: 'hostile'.
Object compile: 'hp', p printString, ': a <primitive: ', p printString, '> ^#failed' classified: 'hostile'.
Object compile: 'hp', p printString, ': a with: b <primitive: ', p printString, '> ^#failed' classified: 'hostile'.
values do: [:r |
  r perform: ('hp', p printString) asSymbol. n _ n + 1.
  sel _ ('hp', p printString, ':') asSymbol.
  values do: [:a | r perform: sel with: a. n _ n + 1].
  sel _ ('hp', p printString, ':with:') asSymbol.
  values do: [:a | values do: [:b | r perform: sel with: a with: b. n _ n + 1]]]."
    );
    if long > 0 {
        // `hpN: a with: b with: c ...`, sent through perform:withArguments: with every
        // combination of the few kinds.
        let keywords: String =
            (0..long).map(|i| if i == 0 { " a0".to_string() } else { format!(" with: a{i}") }).collect();
        let combos = (0..long).fold("(Array with: #())".to_string(), |acc, _| {
            format!(
                "({acc} inject: OrderedCollection new into: [:all :c | few do: [:x | all add: (c copyWith: x)]. all])"
            )
        });
        e.push_str(&format!(
            "\nObject compile: 'hp', p printString, ':{keywords} <primitive: ', p printString, '> ^#failed' classified: 'hostile'.
sel _ 'hp{p}:{}' asSymbol.
{combos} do: [:args | values do: [:r | r perform: sel withArguments: args asArray. n _ n + 1]].",
            (1..long).map(|_| "with:").collect::<String>()
        ));
    }
    e.push_str("\nArray with: p with: n");
    e
}

fn primitive_sweep(image_name: &str) {
    let Some((dir, img)) = scratch(&format!("sweep-{}", image_name.replace('/', "-")), image_name) else { return };
    let exprs: Vec<String> =
        std::iter::once(VALUES.to_string()).chain(PRIMITIVES.iter().map(|&p| sweep_expression(p))).collect();
    let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let (stdout, stderr) = survive(&dir, &img, &refs);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), PRIMITIVES.len() + 2, "{image_name}: one answer per primitive\n{stdout}\n{stderr}");
    assert_eq!(lines[0], "16");
    for (line, &p) in lines[1..].iter().zip(PRIMITIVES) {
        let extra = match p {
            116 | 130 | 131 => 4 * 4 * 4 * 16,
            105 => 4 * 4 * 4 * 4 * 16,
            103 => 4096 * 16,
            _ => 0,
        };
        assert_eq!(*line, format!("({p} {} )", 16 * (1 + 16 + 256) + extra), "{image_name}: primitive {p}\n{stderr}");
    }
}

#[test]
fn every_primitive_survives_every_kind_of_argument_on_the_xerox_image() {
    primitive_sweep(XEROX_V2);
}

#[test]
fn every_primitive_survives_every_kind_of_argument_on_dbanays_snapshot() {
    primitive_sweep(DBANAY_SNAPSHOT);
}

/// A runaway recursion at the input process's priority (as an error inside error reporting
/// in the input process, found by `st80 soak`): the image's low-space process has the same
/// priority, so it cannot preempt it. The VM ends that process when not even a context is left,
/// the space comes back and the session goes on.
fn runaway_at_input_priority(image_name: &str) {
    let Some((dir, img)) = scratch(&format!("input-priority-{}", image_name.replace('/', "-")), image_name) else {
        return;
    };
    let (_, stderr) = survive(
        &dir,
        &img,
        &[
            "Object compile: 'hostileRecur ^self hostileRecur' classified: 'hostile'. 0",
            "[nil hostileRecur] forkAt: Processor lowIOPriority. Smalltalk oopsLeft > 5000",
        ],
    );
    assert!(stderr.contains("terminated the running process"), "{image_name}: {stderr}");
}

#[test]
fn a_runaway_at_input_priority_ends_on_the_xerox_image() {
    runaway_at_input_priority(XEROX_V2);
}

#[test]
fn a_runaway_at_input_priority_ends_on_dbanays_snapshot() {
    runaway_at_input_priority(DBANAY_SNAPSHOT);
}

/// Methods whose bytecodes were overwritten through `at:put:` (as the fuzzer's clock primitive
/// did to a CompiledMethod): a bytecode that needs more of the stack than the context holds,
/// or an unused one, ends its process and nothing else; a temporary or literal past the
/// context or method reads nil.
fn overwritten_methods(image_name: &str) {
    let Some((dir, img)) = scratch(&format!("overwritten-{}", image_name.replace('/', "-")), image_name) else {
        return;
    };
    let define = |name: &str, bytes: &str| {
        format!(
            "| m bytes | Object compile: '{name} | a | a _ 1. a _ 2. a _ 3. a _ 4. a _ 5. ^a' classified: 'hostile'.
m _ Object compiledMethodAt: #{name}. bytes _ #({bytes}).
1 to: bytes size do: [:i | m at: m initialPC + i - 1 put: (bytes at: i)]. bytes size"
        )
    };
    // In a process of its own, one priority up: it runs at once, and what is left of it shows.
    let run = |name: &str| {
        format!(
            "| p | p _ [nil {name}. Smalltalk at: #HostileRan put: #{name}] newProcess.
p priority: Processor activePriority + 1. p resume. p suspendedContext isNil"
        )
    };
    let exprs = [
        define("hostileUnderflow", "135 135 135 135 120"),
        run("hostileUnderflow"),
        define("hostileOverflow", "115 163 253"),
        run("hostileOverflow"),
        define("hostileUnused", "126"),
        run("hostileUnused"),
        define("hostileTemp", "31 124"),
        "nil hostileTemp".to_string(),
        define("hostileLiteral", "63 124"),
        "nil hostileLiteral".to_string(),
        "Smalltalk includesKey: #HostileRan".to_string(),
        // A process whose context is no proper context (one that cannot hold its own fields,
        // or whose ip is nil) ends when it is switched to.
        "| p | p _ Process forContext: (MethodContext new: 0) priority: 7. p resume. p suspendedContext isNil"
            .to_string(),
        "| p | p _ Process forContext: (MethodContext new: 3) priority: 7. p resume. p suspendedContext isNil"
            .to_string(),
    ];
    let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let (stdout, stderr) = survive(&dir, &img, &refs);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["5", "true", "3", "true", "1", "true", "2", "nil", "2", "nil", "false", "true", "true", "7"],
        "{image_name}: each faulty process ended, the out-of-range reads answered nil\n{stdout}\n{stderr}"
    );
    assert_eq!(stderr.matches("a bytecode could not run: terminated the running process").count(), 5, "{stderr}");
}

#[test]
fn overwritten_methods_end_their_process_on_the_xerox_image() {
    overwritten_methods(XEROX_V2);
}

#[test]
fn overwritten_methods_end_their_process_on_dbanays_snapshot() {
    overwritten_methods(DBANAY_SNAPSHOT);
}
