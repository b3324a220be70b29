use super::graph::*;
use super::read::*;
use std::path::Path;

fn graph_of(edges: &[(&str, &[&str])]) -> Graph {
    Graph {
        edges: edges
            .iter()
            .map(|(m, to)| (m.to_string(), to.iter().map(|s| s.to_string()).collect()))
            .collect(),
    }
}

#[test]
fn finds_each_circle_once() {
    let g = graph_of(&[
        ("a", &["b"]),
        ("b", &["c"]),
        ("c", &["a", "d"]),
        ("d", &[]),
        ("e", &["e"]),
    ]);
    assert_eq!(g.circles(), vec![vec!["a", "b", "c"], vec!["e"]]);
    assert_eq!((g.modules(), g.edge_count()), (5, 5));
    assert!(graph_of(&[("a", &["b"]), ("b", &[])]).circles().is_empty());
}

#[test]
fn reads_use_lines_groups_and_inline_paths() {
    let text = "use super::{console, lapic::Lapic};\nuse crate::text::Quote;\nlet p = (\"super::\", 1);\n\
                fn f() { crate::report::boot(); x::crate::no(); } // crate::comment\n";
    let paths = named_paths("machine::smp", text);
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "text::Quote",
            "report::boot",
            "machine::console",
            "machine::lapic::Lapic"
        ]
    );
}

#[test]
fn root_reexports_name_their_modules() {
    let root = "pub use plan::{LoadPlan, Protocol};\npub use error::Error;\npub mod x;";
    let r = reexports(root);
    assert_eq!(r["Protocol"], ["plan", "Protocol"]);
    assert_eq!(r["Error"], ["error", "Error"]);
    assert_eq!(r.len(), 3);
}

#[test]
fn test_modules_are_left_out() {
    let text = "use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\nuse crate::c;\n";
    assert_eq!(without_tests(text), "use crate::a;\nuse crate::c;\n");
}

#[test]
fn arrows_to_later_stages_or_the_top_run_back_up() {
    let stages = [
        Stage::folder(&["base"]),
        Stage {
            name: "mid",
            modules: &["mid", "side"],
        },
        Stage::folder(&["top::stage"]),
    ];
    let g = graph_of(&[
        ("base::a", &["base::b"]),
        ("base::b", &[]),
        ("mid", &["base::a", "top::stage::x"]),
        ("top::stage::x", &["mid", "report"]),
        ("report", &["mid"]),
    ]);
    assert_eq!(stage_of(&stages, "top::stage::x"), Some(2));
    assert_eq!(stage_of(&stages, "top"), None);
    assert_eq!(stage_of(&stages, "side::y"), Some(1));
    assert_eq!(
        g.back_up(&stages),
        [
            ("mid".to_string(), "top::stage::x".to_string()),
            ("top::stage::x".to_string(), "report".to_string()),
        ]
    );
}

#[test]
fn a_parent_naming_its_child_draws_an_arrow() {
    assert!(is_child("machine", "machine::smp"));
    assert!(!is_child("machine", "machine::smp::park"));
    assert!(is_child("", "report"));
    assert!(names_child("use trampoline::{ApBoot};", "trampoline"));
    assert!(!names_child(
        "use crate::x::trampoline::A; // trampoline::",
        "trampoline"
    ));
}

#[test]
fn super_in_an_inline_module_is_the_file_itself() {
    let text = "mod defaults {\n    use super::OneOrMany;\n}\nuse super::x;\n";
    let joined: Vec<String> = named_paths("scenarios::file", text)
        .iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(joined, ["scenarios::file::OneOrMany", "scenarios::x"]);
}

#[test]
fn module_paths_of_files() {
    assert_eq!(
        module_of(Path::new("machine/smp.rs"), "main.rs").as_deref(),
        Some("machine::smp")
    );
    assert_eq!(
        module_of(Path::new("acpi/mod.rs"), "lib.rs").as_deref(),
        Some("acpi")
    );
    assert_eq!(
        module_of(Path::new("lib.rs"), "lib.rs").as_deref(),
        Some("")
    );
}
