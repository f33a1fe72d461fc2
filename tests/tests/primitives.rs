//! One or more cases per primitive the Xerox v2 image calls (docs/primitives.md has the
//! table): expressions compiled by the image's own Compiler, with the printString the
//! semantics give. Failure cases pass an argument the primitive must refuse, so the image's own
//! fallback code answers (or raises the error it raises). Expected values come from the Blue
//! Book and the image's method comments and fallback code, not from this VM's output.

use st80_headless::HeadlessHost;
use st80_tests::{evaluate, interpreter, XEROX_V2};

const B: &str = "| f b | f _ Form new extent: 16@16. b _ BitBlt destForm: f sourceForm: nil halftoneForm: Form black combinationRule: Form over destOrigin: 0@0 sourceOrigin: 0@0 extent: 1@1 clipRect: f boundingBox. ";

/// (primitive, expression, expected printString or `error: MESSAGE`)
fn table() -> Vec<(u16, String, &'static str)> {
    let rows: &[(u16, &str, &str)] = &[
        // 1-18 SmallInteger: fail when the argument or the result is not a SmallInteger.
        (1, "3 + 4", "7"),
        (1, "16383 + 1", "16384"),
        (1, "3 + 0.5", "3.5"),
        (2, "3 - 10", "-7"),
        (2, "-16384 - 1", "-16385"),
        (2, "-16384 subtractOrFail: 1", "nil"),
        (3, "3 < 4", "true"),
        (3, "3 < 2.5", "false"),
        (4, "4 > 3", "true"),
        (4, "4 > (2 raisedTo: 20)", "false"),
        (5, "3 <= 3", "true"),
        (5, "3 <= 2.5", "false"),
        (6, "3 >= 4", "false"),
        (6, "3 >= 2.5", "true"),
        (7, "3 = 3", "true"),
        (7, "3 = 3.0", "true"),
        (8, "3 ~= 4", "true"),
        (8, "3 ~= 3.0", "false"),
        (9, "200 * 200", "40000"),
        (9, "-128 * 128", "-16384"),
        (9, "0 * (2 raisedTo: 100)", "0"),
        (10, "6 / 3", "2"),
        (10, "7 / 2", "(7/2)"),
        (10, "6 / 0", "error: division by 0"),
        (11, "-7 \\\\ 2", "1"),
        (11, "7 \\\\ -2", "-1"),
        (11, "7 \\\\ (2 raisedTo: 20)", "7"),
        (12, "-1 // 2", "-1"),
        (12, "7 // -2", "-4"),
        // The only SmallInteger quotient that overflows: the image's // falls back on quo:, whose
        // fallback calls a failed primitive with a SmallInteger argument an error.
        (12, "-16384 // -1", "error: a primitive has failed"),
        (13, "-7 quo: 2", "-3"),
        (13, "7 quo: -2", "-3"),
        // The image's fallback: a SmallInteger argument that failed the primitive is an error.
        (13, "-16384 quo: -1", "error: a primitive has failed"),
        (14, "12 bitAnd: 10", "8"),
        (14, "255 bitAnd: (2 raisedTo: 20) + 7", "7"),
        (15, "12 bitOr: 3", "15"),
        (16, "-1 bitXor: 1", "-2"),
        (17, "1 bitShift: 13", "8192"),
        (17, "1 bitShift: 14", "16384"),
        (17, "1 bitShift: 32", "4294967296"),
        (17, "-1 bitShift: 14", "-16384"),
        (17, "-8 bitShift: -1", "-4"),
        (17, "-1 bitShift: -20", "-1"),
        (18, "3 @ 4", "3@4"),
        (18, "1.5 @ 2", "1.5@2"),
        (18, "3 @ 4.5", "3@4.5"),
        // 21-37 LargePositiveInteger: optional; the image's code answers.
        (21, "(2 raisedTo: 20) + 1", "1048577"),
        (22, "(2 raisedTo: 20) - 1", "1048575"),
        (23, "(2 raisedTo: 20) < 5", "false"),
        (24, "(2 raisedTo: 20) > 5", "true"),
        (25, "(2 raisedTo: 20) <= (2 raisedTo: 20)", "true"),
        (26, "(2 raisedTo: 20) >= (2 raisedTo: 21)", "false"),
        (27, "(2 raisedTo: 20) = (2 raisedTo: 20)", "true"),
        (28, "(2 raisedTo: 20) ~= 3", "true"),
        (29, "(2 raisedTo: 20) * 2", "2097152"),
        (30, "(2 raisedTo: 20) / 4", "262144"),
        (31, "(2 raisedTo: 20) \\\\ 7", "4"),
        (32, "(2 raisedTo: 20) // 3", "349525"),
        (33, "(2 raisedTo: 20) quo: 3", "349525"),
        (34, "(2 raisedTo: 20) bitAnd: 4095", "0"),
        (35, "(2 raisedTo: 20) bitOr: 1", "1048577"),
        (36, "(2 raisedTo: 20) bitXor: 1048577", "1"),
        (37, "(2 raisedTo: 20) bitShift: -10", "1024"),
        // 40-54 Float (single precision in v2): fail unless the argument is a Float.
        (40, "3 asFloat", "3.0"),
        (41, "1.5 + 1.5", "3.0"),
        (41, "1.5 + 1", "2.5"),
        (42, "2.5 - 1.0", "1.5"),
        (42, "2.5 - 1", "1.5"),
        (43, "1.5 < 2.0", "true"),
        (43, "1.5 < 1", "false"),
        (44, "1.5 > 2.0", "false"),
        (45, "1.5 <= 1.5", "true"),
        (45, "1.5 <= 1", "false"),
        (46, "1.5 >= 2.0", "false"),
        (47, "1.5 = 1.5", "true"),
        (47, "2.0 = 2", "true"),
        (48, "1.5 ~= 1.5", "false"),
        (49, "1.5 * 2.0", "3.0"),
        (49, "1.5 * 2", "3.0"),
        (50, "3.0 / 2.0", "1.5"),
        (50, "1.0 / 0", "error: attempt to divide by zero"),
        (50, "1.0 / 0.0", "error: attempt to divide by zero"),
        (51, "7.9 truncated", "7"),
        (51, "-7.9 truncated", "-7"),
        (51, "100000.0 truncated", "100000"),
        (52, "2.5 fractionPart", "0.5"),
        (53, "8.0 exponent", "3"),
        (53, "0.5 exponent", "-1"),
        (53, "0.0 exponent", "-1"),
        (54, "1.5 timesTwoPower: 3", "12.0"),
        // 60-67 subscripts and streams.
        (60, "#(1 2 3) at: 2", "2"),
        (60, "#(1 2 3) at: 4", "error: subscript is out of bounds: 4"),
        (60, "#(1 2 3) at: 2.7", "2"),
        (60, "#(1 2 3) basicAt: 0", "error: subscript is out of bounds: 0"),
        (60, "(2 raisedTo: 20) digitAt: 3", "16"),
        (60, "(2 raisedTo: 20) digitAt: 9", "0"),
        (60, "(WordArray with: 65535) at: 1", "65535"),
        (61, "(Array new: 2) at: 1 put: 5; yourself", "(5 nil )"),
        (61, "(ByteArray new: 2) at: 1 put: 255; yourself", "ByteArray (255 0 )"),
        (61, "(ByteArray new: 2) at: 1 put: 256", "error: Improper store into indexable object"),
        (61, "(ByteArray new: 2) at: 3 put: 1", "error: subscript is out of bounds: 3"),
        (61, "((WordArray new: 1) at: 1 put: 65535; yourself) at: 1", "65535"),
        (61, "(WordArray new: 1) at: 1 put: 65536", "error: Improper store into indexable object"),
        (61, "(LargePositiveInteger new: 2) digitAt: 1 put: 7; digitAt: 2 put: 1; yourself", "263"),
        (62, "#(1 2 3) size", "3"),
        (62, "'hello' size", "5"),
        (62, "Object new basicSize", "0"),
        (62, "3 basicSize", "0"),
        (62, "(2 raisedTo: 20) digitLength", "3"),
        (63, "'abc' at: 2", "$b"),
        (63, "'abc' at: 4", "error: subscript is out of bounds: 4"),
        (64, "'abc' copy at: 1 put: $z; yourself", "'zbc'"),
        (64, "'abc' copy at: 1 put: 3", "error: Strings only store Characters"),
        (65, "(ReadStream on: #(1 2 3)) next", "1"),
        (65, "(ReadStream on: 'abc') next", "$a"),
        (65, "(ReadStream on: (OrderedCollection with: 7)) next", "7"),
        (65, "(ReadStream on: #()) next", "nil"),
        (65, "(ReadWriteStream on: String new) nextPutAll: 'xy'; reset; next", "$x"),
        (66, "(WriteStream on: (String new: 2)) nextPut: $a; nextPut: $b; nextPut: $c; contents", "'abc'"),
        (66, "(WriteStream on: (Array new: 0)) nextPut: 3; contents", "(3 )"),
        (66, "(WriteStream on: (String new: 2)) nextPut: 3", "error: Strings only store Characters"),
        (67, "(ReadStream on: #()) atEnd", "true"),
        (67, "(ReadStream on: #(1)) atEnd", "false"),
        // 68-79 storage.
        (68, "(Object compiledMethodAt: #printString) literals includes: #printOn:", "true"),
        (68, "(Object compiledMethodAt: #printString) objectAt: 200", "error: a primitive has failed"),
        (69, "| m | m _ CompiledMethod newMethod: 2 header: 2. m objectAt: 3 put: #foo. m objectAt: 3", "foo"),
        (69, "(CompiledMethod newMethod: 2 header: 2) objectAt: 1 put: 3", "error: a primitive has failed"),
        (70, "Object new class", "Object"),
        (70, "Array new", "()"),
        (71, "(Array new: 3) size", "3"),
        (71, "Object new: 3", "error: a primitive has failed"),
        (71, "Array new: -1", "error: a primitive has failed"),
        (72, "| a b | a _ 'a' copy. b _ #(1) copy. a become: b. a", "(1 )"),
        (72, "3 become: 4", "error: a primitive has failed"),
        (73, "(3 @ 4) instVarAt: 2", "4"),
        (73, "'abc' instVarAt: 1", "$a"),
        (73, "(3 @ 4) instVarAt: 3", "error: subscript is out of bounds: 1"),
        (74, "(3 @ 4) instVarAt: 1 put: 7; yourself", "7@4"),
        (74, "'abc' copy instVarAt: 1 put: $z; yourself", "'zbc'"),
        (75, "Object new hash class", "SmallInteger"),
        (75, "#abc hash = #abc asOop", "true"),
        (76, "| o | o _ Object new. o asOop asObject == o", "true"),
        (76, "#abc asOop asObject", "abc"),
        (77, "Character someInstance class", "Character"),
        (78, "Character someInstance nextInstance class", "Character"),
        (79, "(CompiledMethod newMethod: 3 header: 4) numLiterals", "4"),
        (79, "CompiledMethod newMethod: -1 header: 4", "error: a primitive has failed"),
        // 80-89 control.
        (80, "| b | b _ [:x | x * 2]. b value: 21", "42"),
        (81, "[3] value", "3"),
        (81, "[:a | a + 1] value: 2", "3"),
        (81, "[:a :b | a + b] value: 1 value: 2", "3"),
        (81, "[:a :b :c | a + b + c] value: 1 value: 2 value: 3", "6"),
        (81, "[3] value: 4", "error: The block needs more or fewer arguments defined"),
        (82, "[:a :b | a * b] valueWithArguments: #(3 4)", "12"),
        (82, "[:a | a] valueWithArguments: #(1 2)", "error: The block needs more or fewer arguments defined"),
        (83, "3 perform: #factorial", "6"),
        (83, "3 perform: #+ with: 4", "7"),
        (83, "3 perform: #between:and: with: 1 with: 5", "true"),
        (83, "3 perform: #foo", "error: Message not understood: foo"),
        (83, "3 perform: #between:and: with: 1", "error: Message not understood: between:and:"),
        (84, "3 perform: #+ withArguments: #(4)", "7"),
        (84, "3 perform: #+ withArguments: #()", "error: Message not understood: +"),
        (84, "3 perform: #+ withArguments: 4", "error: a primitive has failed"),
        (85, "| s r | s _ Semaphore new. r _ OrderedCollection new. [r add: 1. s signal] fork. s wait. r add: 2. r asArray", "(1 2 )"),
        (86, "| s | s _ Semaphore new. s signal. s wait. 3", "3"),
        (87, "| p r | r _ OrderedCollection new. p _ [r add: 1] newProcess. p resume. Processor yield. r asArray", "(1 )"),
        (87, "| s p | s _ Semaphore new. p _ [s wait] newProcess. p priority: 6. p resume. p resume", "error: a primitive has failed"),
        (88, "| p r | r _ OrderedCollection new. p _ [r add: 1. Processor activeProcess suspend. r add: 2] newProcess. p priority: 6. p resume. r add: 3. p resume. r asArray", "(1 3 2 )"),
        (89, "Object flushCache", "Object"),
        // 90-105 input/output.
        (90, "Sensor cursorPoint class", "Point"),
        (91, "Sensor cursorPoint: 100@120. Sensor cursorPoint", "100@120"),
        (91, "Sensor cursorPoint: 100.6@120. Sensor cursorPoint", "101@120"),
        (92, "Cursor cursorLink: true", "Cursor"),
        (93, "InputState new primInputSemaphore: 3", "error: a primitive has failed"),
        (94, "InputState new primSampleInterval: 10; yourself", "an InputState"),
        (94, "InputState new primSampleInterval: nil", "error: a primitive has failed"),
        (95, "InputState new primInputWord", "error: a primitive has failed"),
        (96, "| f | f _ Form new extent: 16@16. f black. f valueAt: 3@3", "1"),
        (96, "(Form new extent: 16@16) valueAt: 3@3", "0"),
        (98, "Time secondClockInto: (ByteArray new: 4)", "Time"),
        (98, "Time secondClockInto: (ByteArray new: 3)", "error: a primitive has failed"),
        (99, "Time millisecondClockInto: (ByteArray new: 4)", "Time"),
        (99, "Time millisecondClockInto: (Array new: 4)", "error: a primitive has failed"),
        (100, "Processor signal: nil atMilliseconds: (ByteArray new: 4)", "a ProcessorScheduler"),
        (100, "Processor signal: 3 atMilliseconds: (ByteArray new: 4)", "error: a primitive has failed"),
        (100, "Processor signal: Semaphore new atMilliseconds: (ByteArray new: 2)", "error: a primitive has failed"),
        (100, "(Delay forMilliseconds: 10) wait. 3", "3"),
        (101, "Cursor normal beCursor == Cursor normal", "true"),
        (101, "Cursor new beCursor == Cursor new", "false"),
        // The image refuses to build such cursors itself, so the width field is changed.
        (101, "| c | c _ Cursor normal deepCopy. c instVarAt: 2 put: 8. c beCursor", "error: a primitive has failed"),
        (102, "Display beDisplay == Display", "true"),
        (102, "DisplayScreen new beDisplay", "error: a primitive has failed"),
        (105, "(String new: 3) replaceFrom: 1 to: 3 with: 'abc' startingAt: 1", "'abc'"),
        (105, "(ByteArray new: 3) replaceFrom: 1 to: 3 withString: 'abc' startingAt: 1", "ByteArray (97 98 99 )"),
        (105, "(String new: 3) replaceFrom: 1 to: 3 withByteArray: ((ByteArray new: 3) at: 1 put: 120; at: 2 put: 121; at: 3 put: 122; yourself) startingAt: 1", "'xyz'"),
        (105, "(String new: 3) primReplaceFrom: 1 to: 3 with: #($a $b $c) startingAt: 1", "'abc'"),
        // 110-116 system.
        (110, "3 == 3", "true"),
        (110, "$a = $a", "true"),
        (110, "$a = 97", "false"),
        (111, "3 class", "SmallInteger"),
        (112, "Smalltalk coreLeft > 0", "true"),
        (115, "Smalltalk oopsLeft > 0", "true"),
        (116, "Smalltalk signal: 3 atOopsLeft: 10 wordsLeft: 10", "error: a primitive has failed"),
    ];
    let mut rows: Vec<(u16, String, &'static str)> = rows.iter().map(|&(p, e, r)| (p, e.to_string(), r)).collect();
    // BitBlt-based rows share a setup.
    rows.push((96, format!("{B}b destX: 2.5. b copyBits. f valueAt: 2@0"), "1"));
    rows.push((104, format!("{B}b drawLoopX: 5 Y: 5. (0 to: 5) collect: [:i | f valueAt: i@i]"), "(1 1 1 1 1 1 )"));
    rows.push((104, format!("{B}b drawLoopX: 4 Y: 0. (0 to: 5) collect: [:i | f valueAt: i@0]"), "(1 1 1 1 1 0 )"));
    rows
}

#[test]
fn every_primitive_the_v2_image_calls_accepts_what_its_senders_pass() {
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    let mut failures = Vec::new();
    for (prim, expr, expected) in table() {
        let got = evaluate(&mut vm, &mut host, &expr, 200_000_000);
        if got != expected {
            failures.push(format!("primitive {prim}: {expr}\n    expected {expected}\n    got      {got}"));
        }
    }
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// become: (primitive 72) of an object a cached lookup went through (a class, its method
/// dictionary, a method) must redirect the next send; the VM keeps its method cache only across
/// become: of other objects. Class A's `answer` is a quick `^self` and B's answers 2, so a
/// stale cache entry shows as `false` in the last place.
#[test]
fn become_of_a_class_dictionary_or_method_redirects_the_next_send() {
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    let swaps = [
        ("a class", "a become: b"),
        ("a method dictionary", "(a instVarAt: 2) become: (b instVarAt: 2)"),
        ("a method", "(a compiledMethodAt: #answer) become: (b compiledMethodAt: #answer)"),
    ];
    for (n, (what, swap)) in swaps.iter().enumerate() {
        // (Fresh class names each time: `subclass:` of an existing name would redefine it.)
        let expr = format!(
            "| a b r | \
             a _ Object subclass: #BecomeA{n} instanceVariableNames: '' classVariableNames: '' poolDictionaries: '' category: 'st80'. \
             b _ Object subclass: #BecomeB{n} instanceVariableNames: '' classVariableNames: '' poolDictionaries: '' category: 'st80'. \
             a compile: 'answer ^self' classified: 'st80'. b compile: 'answer ^2' classified: 'st80'. \
             r _ OrderedCollection new. r add: a new answer = 2; add: b new answer = 2. \
             {swap}. r add: a new answer = 2. r asArray"
        );
        assert_eq!(evaluate(&mut vm, &mut host, &expr, 200_000_000), "(false true true )", "become: of {what}");
    }
}

#[test]
fn quit_primitive_stops_the_vm() {
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    vm.start_evaluation("Smalltalk quitPrimitive. 3").unwrap();
    assert_eq!(st80_headless::run(&mut vm, &mut host, 10_000_000), st80_core::StopReason::Quit);
}

#[test]
fn an_evaluation_needs_the_images_process_class() {
    // Every object's class is an object (the method cache's empty entries rely on it): an
    // image whose `Process` is a SmallInteger gets no evaluation process of that "class".
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    assert_eq!(evaluate(&mut vm, &mut host, "Smalltalk at: #Process put: 0. 3", 50_000_000), "3");
    let refused = vm.start_evaluation("4").expect_err("an evaluation without a Process class");
    assert!(refused.contains("no Process class"), "{refused}");
}

#[test]
fn a_special_selector_count_the_image_overwrote_faults_the_send() {
    // The specialSelectors Array gives each special selector's argument count, and the image
    // can store anything there: a count of -1 once wrapped to a send of 2^64 - 1 arguments
    // that passed the stack check and read past the stack. Now the send finds the stack too
    // short for it, and the process that sent it ends, like any stack fault.
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    // `x` is special selector 30 (bytecode 206): its count is element 62.
    assert_eq!(evaluate(&mut vm, &mut host, "Smalltalk specialSelectors at: 62", 50_000_000), "0");
    vm.start_evaluation("Smalltalk specialSelectors at: 62 put: -1. (3 @ 4) x").unwrap();
    let faults = vm.stats.process_faults;
    st80_headless::run(&mut vm, &mut host, 2_000_000);
    assert!(vm.stats.process_faults > faults, "the process sending x ended");
}

#[test]
fn a_stack_pointer_stored_into_a_running_blocks_caller_stays_in_the_context() {
    // A running block's caller is the one context the image can reach without it escaping:
    // through the block's sender field (`sender` is a plain instance-variable read). A
    // negative stack pointer stored there must leave the return to that caller within the
    // context (here the push of the block's value then finds the stack full: a process
    // fault), and the image runs on.
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    let faults = vm.stats.process_faults;
    vm.start_evaluation("| b | b _ [b sender instVarAt: 3 put: -1. 5]. 1 timesRepeat: b. 6").unwrap();
    st80_headless::run(&mut vm, &mut host, 2_000_000);
    assert!(vm.stats.process_faults > faults, "the process returning into that context ended");
    assert_eq!(evaluate(&mut vm, &mut host, "3 + 4", 50_000_000), "7");
}

#[test]
fn inline_special_selectors_check_their_operands_are_on_the_stack() {
    // `+`, `==` and `class` run inline when the stack holds their operands, one check for
    // the reads and the pop. Each hand-made method here runs one with an operand short, then
    // pushes self and returns it. Read below the stack, the operation would take the
    // context's receiver field as an operand, write its result there and return normally;
    // checked, the short stack ends the process, as any stack fault does.
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    // push 1, +; push 1, ==; class; each then push self, return stack top.
    for (name, bytecodes) in [("plus", "118 176"), ("same", "118 198"), ("klass", "199")] {
        let mut bytes: Vec<&str> = bytecodes.split(' ').collect();
        bytes.extend(["112", "124"]);
        let stores: String = bytes.iter().enumerate().map(|(i, b)| format!("m at: {} put: {b}. ", i + 3)).collect();
        let source = format!(
            "| m | m _ CompiledMethod newMethod: {} header: 0. {stores}\
             Object addSelector: #short{name} withMethod: m. 3 perform: #short{name}",
            bytes.len()
        );
        let faults = vm.stats.process_faults;
        vm.start_evaluation(&source).unwrap();
        st80_headless::run(&mut vm, &mut host, 3_000_000);
        assert_eq!(vm.stats.process_faults, faults + 1, "{name}: the process running it ended");
    }
    assert_eq!(evaluate(&mut vm, &mut host, "3 + 4", 50_000_000), "7");
}

#[test]
fn a_point_has_its_two_fields_whatever_the_point_class_says() {
    // The book's primitiveMakePoint makes a Point of two pointer fields (ClassPointSize),
    // not as many as Point's instance specification says: with Point reshaped to no named
    // fields, `3 @ 4` once made an object of none and wrote x and y over the next object.
    let Some(mut vm) = interpreter(XEROX_V2) else { return };
    let mut host = HeadlessHost::new();
    st80_headless::run(&mut vm, &mut host, 1_000_000);
    let source = "| spec p | spec _ Point instVarAt: 3. Point instVarAt: 3 put: spec - 2. \
                  p _ 3 @ 4. Point instVarAt: 3 put: spec. (p instVarAt: 1) + (p instVarAt: 2)";
    assert_eq!(evaluate(&mut vm, &mut host, source, 50_000_000), "7");
    // The mouse's Point (primitive 90) likewise.
    let mouse = "| q | q _ Sensor primMousePt. (q instVarAt: 1) + (q instVarAt: 2)";
    let expected = evaluate(&mut vm, &mut host, mouse, 50_000_000);
    assert!(expected.parse::<i32>().is_ok(), "{expected}");
    let source = "| spec q | spec _ Point instVarAt: 3. Point instVarAt: 3 put: spec - 2. \
                  q _ Sensor primMousePt. Point instVarAt: 3 put: spec. (q instVarAt: 1) + (q instVarAt: 2)";
    assert_eq!(evaluate(&mut vm, &mut host, source, 50_000_000), expected);
}
