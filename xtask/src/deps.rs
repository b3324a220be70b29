//! `cargo xtask deps`: each crate's module graph drawn from its source (a
//! file is a module, an arrow for every module its `use` lines and inline
//! `crate::`/`super::` paths name, and for each child module it names by
//! its short path), with the counts, every import circle and every arrow
//! back up the crate's stage order. Exits 1 on either: .ci/run keeps the
//! layout a DAG in stage order.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A crate checked: its name, the folder its root file is in, the root
/// file, and its stages bottom first. A module may use its own stage and
/// earlier ones; an arrow to a later stage, or from a stage to a module in
/// none (the top: the root, the pipeline's reports), runs back up.
struct Checked {
    name: &'static str,
    dir: &'static str,
    root_file: &'static str,
    stages: &'static [&'static str],
}

const CRATES: [Checked; 4] = [
    Checked {
        name: "baton (library)",
        dir: "firmware/src",
        root_file: "lib.rs",
        stages: &[
            "support", "entry", "acpi", "smp", "source", "takeover", "options",
        ],
    },
    Checked {
        name: "baton (firmware binary)",
        dir: "firmware/src",
        root_file: "main.rs",
        stages: &[
            "machine::platform",
            "machine::entry",
            "machine::acpi",
            "machine::trap",
            "machine::smp",
            "machine::source",
            "machine::takeover",
        ],
    },
    Checked {
        name: "payload-loader",
        dir: "payload-loader/src",
        root_file: "lib.rs",
        stages: &[],
    },
    Checked {
        name: "xtask",
        dir: "xtask/src",
        root_file: "main.rs",
        stages: &[],
    },
];

/// The stage `module` is in: the index of the longest stage path that is
/// the module or one of its parents.
fn stage_of(stages: &[&str], module: &str) -> Option<usize> {
    stages
        .iter()
        .enumerate()
        .filter(|(_, s)| module == **s || module.starts_with(&format!("{s}::")))
        .max_by_key(|(_, s)| s.len())
        .map(|(i, _)| i)
}

/// One crate's modules (paths like `machine::smp`, "" for the root) and
/// which modules each one uses.
#[derive(Debug, Default)]
pub struct Graph {
    pub edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    pub fn modules(&self) -> usize {
        self.edges.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.values().map(BTreeSet::len).sum()
    }

    /// A Mermaid flowchart of the graph: the modules of each stage (else of
    /// each top-level folder) in one box, modules in a circle drawn red.
    pub fn mermaid(&self, name: &str, stages: &[&str], circles: &[Vec<String>]) -> String {
        let id = |m: &str| {
            if m.is_empty() {
                "root".to_string()
            } else {
                m.replace("::", "__")
            }
        };
        let label = |m: &str| if m.is_empty() { "(root)" } else { m }.to_string();
        let group = |m: &str| match stage_of(stages, m) {
            Some(i) => stages[i].to_string(),
            None if stages.is_empty() => m.split("::").next().unwrap_or(m).to_string(),
            None => "top".to_string(),
        };
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for m in self.edges.keys() {
            groups.entry(group(m)).or_default().push(m);
        }
        let mut out = format!("\n```mermaid\n---\ntitle: {name}\n---\nflowchart LR\n");
        for (g, members) in &groups {
            if members.len() > 1 || stages.iter().any(|s| s == g) {
                let _ = writeln!(
                    out,
                    "  subgraph {}[\"{g}\"]",
                    id(g).replace("__", "_") + "_group"
                );
                for m in members {
                    let _ = writeln!(out, "    {}[\"{}\"]", id(m), label(m));
                }
                out += "  end\n";
            } else {
                for m in members {
                    let _ = writeln!(out, "  {}[\"{}\"]", id(m), label(m));
                }
            }
        }
        for (from, uses) in &self.edges {
            for to in uses {
                let _ = writeln!(out, "  {} --> {}", id(from), id(to));
            }
        }
        for m in circles.iter().flatten() {
            let _ = writeln!(out, "  style {} fill:#f88", id(m));
        }
        out += "```\n\n";
        out
    }

    /// The arrows that run back up the stage order: `(from, to)`.
    pub fn back_up(&self, stages: &[&str]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (from, uses) in &self.edges {
            let Some(here) = stage_of(stages, from) else {
                continue;
            };
            for to in uses {
                if stage_of(stages, to).is_none_or(|there| there > here) {
                    out.push((from.clone(), to.clone()));
                }
            }
        }
        out
    }

    /// Every strongly connected set of more than one module (or one that
    /// uses itself), each sorted, in order.
    pub fn circles(&self) -> Vec<Vec<String>> {
        // Tarjan's algorithm, iterative enough for a few dozen modules.
        struct State<'a> {
            g: &'a Graph,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            out: Vec<Vec<String>>,
        }
        fn visit<'a>(s: &mut State<'a>, v: &'a str) {
            let n = s.index.len();
            s.index.insert(v, n);
            s.low.insert(v, n);
            s.stack.push(v);
            s.on_stack.insert(v);
            for w in s.g.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
            if s.low[v] == s.index[v] {
                let mut set = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on_stack.remove(w);
                    set.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                let self_loop = s.g.edges.get(v).is_some_and(|e| e.contains(v));
                if set.len() > 1 || self_loop {
                    set.sort();
                    s.out.push(set);
                }
            }
        }
        let mut s = State {
            g: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            out: Vec::new(),
        };
        for v in self.edges.keys() {
            if !s.index.contains_key(v.as_str()) {
                visit(&mut s, v);
            }
        }
        s.out.sort();
        s.out
    }
}

/// The module path of a file under the crate's folder (`machine/smp.rs` ->
/// `machine::smp`, `acpi/mod.rs` -> `acpi`, the root file -> "").
fn module_of(relative: &Path, root_file: &str) -> Option<String> {
    let s = relative.to_str()?.strip_suffix(".rs")?;
    if s == root_file.trim_end_matches(".rs") {
        return Some(String::new());
    }
    let s = s.strip_suffix("/mod").unwrap_or(s);
    Some(s.replace('/', "::"))
}

/// The files of a crate: the root, and every module it declares, found by
/// following `mod` lines (so a library's and a binary's modules in one
/// folder stay apart).
fn crate_files(dir: &Path, root_file: &str) -> Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.join(root_file)];
    while let Some(path) = todo.pop() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let relative = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
        let Some(module) = module_of(&relative, root_file) else {
            continue;
        };
        // Children live in `dir/module/` (for the root and mod.rs files) or
        // `dir/module/` beside `module.rs`.
        let base: PathBuf = if module.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(module.replace("::", "/"))
        };
        // Test modules (`#[cfg(test)] mod tests;`) are not part of the layout.
        for name in declared_modules(&without_tests(&text)) {
            let flat = base.join(format!("{name}.rs"));
            let nested = base.join(&name).join("mod.rs");
            if flat.exists() {
                todo.push(flat);
            } else if nested.exists() {
                todo.push(nested);
            }
        }
        files.insert(module, text);
    }
    Ok(files)
}

/// `mod x;` / `pub mod x;` lines (not inline `mod tests { ... }`).
fn declared_modules(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| {
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            let name = l.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_string())
        })
        .collect()
}

/// The text without `#[cfg(test)]` modules: test code may use anything.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            // Skip the item that follows, by brace depth.
            let mut depth = 0i32;
            let mut opened = false;
            for l in lines.by_ref() {
                depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                opened |= l.contains('{');
                if opened && depth <= 0 || !opened && l.trim_end().ends_with(';') {
                    break;
                }
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The paths a module names: `crate::a::b`, `super::c` (made absolute),
/// including each name of a `use crate::{a, b::c}` group.
fn named_paths(module: &str, text: &str) -> Vec<Vec<String>> {
    let parent: Vec<String> = {
        let mut p: Vec<String> = module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        p.pop();
        p
    };
    let mut out = Vec::new();
    let text = inline_supers_resolved(module, text);
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let mut path = base.clone();
                    path.extend(words(item.trim()));
                    out.push(path);
                }
                continue;
            }
            let mut path = base.clone();
            path.extend(words(rest));
            out.push(path);
        }
    }
    out
}

/// `super::` inside an inline `mod x { ... }` block names the file's own
/// module, not its parent: written out as `crate::<module>::`.
fn inline_supers_resolved(module: &str, text: &str) -> String {
    let own = if module.is_empty() {
        "crate::".to_string()
    } else {
        format!("crate::{module}::")
    };
    let mut out = String::new();
    // Brace depth at which each open inline module began.
    let mut open: Vec<i32> = Vec::new();
    let mut depth = 0i32;
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let trimmed = code.trim_start();
        let starts_inline = ["mod ", "pub mod ", "pub(crate) mod "]
            .iter()
            .any(|p| trimmed.starts_with(p))
            && code.trim_end().ends_with('{');
        if open.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(&line.replace("super::", &own));
        }
        out.push('\n');
        if starts_inline {
            open.push(depth);
        }
        depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
        while open.last().is_some_and(|&d| depth <= d) {
            open.pop();
        }
    }
    out
}

/// The leading `a::b::c` words of `s`.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        out.push(rest[..end].to_string());
        match rest[end..].strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    out
}

/// The root's re-exports, `pub use a::b::{C, D};` and `pub use a::E;`:
/// item name -> the path it stands for (`crate::C` is a use of `a::b`).
fn reexports(root: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for stmt in root.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest: String = rest.split_whitespace().collect();
        let (base, items) = match rest.split_once("::{") {
            Some((base, items)) => (base.to_string(), items.trim_end_matches('}').to_string()),
            None => match rest.rsplit_once("::") {
                Some((base, item)) => (base.to_string(), item.to_string()),
                None => continue,
            },
        };
        for item in items.split(',').filter(|i| !i.is_empty()) {
            let name = item.rsplit("::").next().unwrap_or(item).to_string();
            let mut path = words(&base);
            path.extend(words(item));
            out.insert(name, path);
        }
    }
    out
}

/// The graph of one crate.
pub fn graph(dir: &Path, root_file: &str) -> Result<Graph> {
    let files = crate_files(dir, root_file)?;
    let exported = reexports(files.get("").map_or("", String::as_str));
    let mut g = Graph::default();
    for (module, text) in &files {
        let mut uses = BTreeSet::new();
        for mut path in named_paths(module, &without_tests(text)) {
            // A re-exported item (`crate::Protocol`) is a use of the module
            // it comes from; a module's own name wins.
            let reexported = path
                .first()
                .filter(|first| !files.contains_key(*first))
                .and_then(|first| exported.get(first));
            if let Some(real) = reexported {
                let mut full = real.clone();
                full.extend(path.drain(1..));
                path = full;
            }
            // The longest prefix that is a module of this crate (`super::f`
            // in machine/x.rs names machine's own item: an arrow to machine).
            // Items of the crate root (the pipeline) draw no arrow.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|m| files.contains_key(m));
            if let Some(t) = target.filter(|t| t != module) {
                uses.insert(t);
            }
        }
        // A module naming its own children by their short path
        // (`use trampoline::ApBoot;` in smp/mod.rs, `pub use tables::X;`).
        let code = without_tests(text);
        for child in files.keys().filter(|f| is_child(module, f)) {
            let name = child.rsplit("::").next().unwrap_or(child);
            if names_child(&code, name) {
                uses.insert(child.clone());
            }
        }
        g.edges.insert(module.clone(), uses);
    }
    Ok(g)
}

/// `child` is a module declared directly inside `parent`.
fn is_child(parent: &str, child: &str) -> bool {
    let rest = if parent.is_empty() {
        Some(child)
    } else {
        child
            .strip_prefix(parent)
            .and_then(|r| r.strip_prefix("::"))
    };
    rest.is_some_and(|r| !r.is_empty() && !r.contains("::"))
}

/// `code` (comments aside) names `name::` as a path of its own, not as the
/// tail of a longer one (`a::name::`).
fn names_child(code: &str, name: &str) -> bool {
    let pattern = format!("{name}::");
    code.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .any(|l| {
            l.match_indices(&pattern).any(|(at, _)| {
                !l[..at]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            })
        })
}

/// `cargo xtask deps`: the workspace's crates, or those under `root`.
pub fn command(root: Option<&Path>, mermaid: bool) -> Result<std::process::ExitCode> {
    let root = root.map_or_else(crate::root, Path::to_path_buf);
    let mut report = String::new();
    let mut problems = 0;
    for c in &CRATES {
        let g = graph(&root.join(c.dir), c.root_file)?;
        let found = g.circles();
        // An old checkout (`--root`) from before the stage folders has none
        // of them: it is drawn and counted without stages.
        let stages = if c.stages.iter().all(|s| g.edges.contains_key(*s)) {
            c.stages
        } else {
            &[]
        };
        let back_up = g.back_up(stages);
        problems += found.len() + back_up.len();
        writeln!(
            report,
            "{}: {} modules, {} arrows, {} circles, {} arrows back up the stages",
            c.name,
            g.modules(),
            g.edge_count(),
            found.len(),
            back_up.len()
        )?;
        if !stages.is_empty() {
            writeln!(report, "  stages, bottom first: {}", stages.join(" < "))?;
        }
        for circle in &found {
            writeln!(report, "  circle: {}", circle.join(" <-> "))?;
            // The arrows inside it: the ones to cut.
            for from in circle {
                let to: Vec<&str> = g.edges[from]
                    .iter()
                    .filter(|t| circle.contains(t))
                    .map(String::as_str)
                    .collect();
                writeln!(report, "    {from} -> {}", to.join(", "))?;
            }
        }
        for (from, to) in &back_up {
            writeln!(report, "  back up: {from} -> {to}")?;
        }
        if mermaid {
            report += &g.mermaid(c.name, stages, &found);
        }
    }
    print!("{report}");
    Ok(if problems == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!(
            "xtask: deps: {problems} import circles or arrows back up the stages (each crate's modules must form a DAG in stage order)"
        );
        std::process::ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let text = "use super::{console, lapic::Lapic};\nuse crate::text::Quote;\n\
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
        let text =
            "use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\nuse crate::c;\n";
        assert_eq!(without_tests(text), "use crate::a;\nuse crate::c;\n");
    }

    #[test]
    fn arrows_to_later_stages_or_the_top_run_back_up() {
        let stages = ["base", "mid", "top::stage"];
        let g = graph_of(&[
            ("base::a", &["base::b"]),
            ("base::b", &[]),
            ("mid", &["base::a", "top::stage::x"]),
            ("top::stage::x", &["mid", "report"]),
            ("report", &["mid"]),
        ]);
        assert_eq!(stage_of(&stages, "top::stage::x"), Some(2));
        assert_eq!(stage_of(&stages, "top"), None);
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
}
