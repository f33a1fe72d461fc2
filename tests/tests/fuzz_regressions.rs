//! Every crash the fuzz targets found (fuzz/regressions/<target>/), replayed as the target runs
//! it: none may panic again. (The replay-log one is a unit test in st80-host-std's replay.rs.)

use st80_core::fuzzing;
use st80_tests::{image_bytes, workspace_root, XEROX_V2};

#[test]
fn primitive_crashes_stay_fixed() {
    let Some(bytes) = image_bytes(XEROX_V2) else { return };
    let (memory, _) = st80_core::image::load(&bytes).unwrap();
    let objects: Vec<_> = memory.all_objects().collect();
    let dir = workspace_root().join("fuzz/regressions/primitives");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    inputs.sort();
    assert!(inputs.len() >= 2, "the regression inputs are in {}", dir.display());
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let run = std::panic::catch_unwind(|| fuzzing::run_primitive_input_with_stats(&memory, &objects, &data));
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let (result, stats) = run.unwrap_or_else(|_| panic!("{name} panics again")).unzip();
        if name == "become-method-dictionaries" {
            // Two MethodDictionaries trade places, so methods run on receivers of another
            // class: the receiver variables they name beyond the receiver's fields are read as
            // nil and stores to them dropped, never a word outside the receiver.
            assert_eq!(result, Some(true), "{name}: become: of two dictionaries succeeds");
            let outside = stats.map(|s| s.receiver_fields_out_of_range).unwrap_or(0);
            assert!(outside > 0, "{name}: the run reaches receiver variables the receiver lacks");
        } else if name == "clock-into-compiled-method" {
            // Primitive 98 writes the clock over a CompiledMethod's header; a method then pops
            // more than its context holds. That process ends; the image goes on.
            assert_eq!(result, Some(true), "{name}: the clock primitive takes any byte object");
            assert_eq!(stats.map(|s| s.process_faults), Some(1), "{name}: one process ended");
        } else if name == "home-context-become" {
            // become: of the active context with a 6-word object: the registers then described
            // an object without a context's fields, and the temporary limit underflowed. The
            // active context now keeps its identity, as the objects the VM names do.
            assert_eq!(result, Some(false), "{name}: become: of the active context fails");
        } else if name.starts_with("become-") {
            // become: with an object the VM names by oop (a guaranteed class) must fail.
            assert_eq!(result, Some(false), "{name}");
        }
    }
}

#[test]
fn check_crashes_stay_fixed() {
    let dir = workspace_root().join("fuzz/regressions/check");
    for input in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
        let data = std::fs::read(&input).unwrap();
        let report = st80_core::check::check(&data).expect("these inputs are images, however broken");
        // odd-method-without-bytecodes: an odd-length CompiledMethod with nothing after its
        // literals made the byte count underflow.
        let lines: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert!(lines.iter().any(|l| l.contains("a CompiledMethod without bytecodes")), "{}", input.display());
    }
}
