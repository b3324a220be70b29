//! A crate's module graph and what is read from it: the counts, the import
//! circles, the arrows back up the stages, and a Mermaid drawing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A stage of a crate: its name and the module paths in it (each with the
/// modules under it).
#[derive(Debug)]
pub struct Stage {
    pub name: &'static str,
    pub modules: &'static [&'static str],
}

impl Stage {
    /// A stage that is one folder, named after it.
    pub const fn folder(path: &'static [&'static str]) -> Self {
        Self {
            name: path[0],
            modules: path,
        }
    }
}

/// The stage `module` is in: the index of the stage with the longest
/// module path that is the module or one of its parents.
pub(super) fn stage_of(stages: &[Stage], module: &str) -> Option<usize> {
    stages
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.modules.iter().map(move |m| (i, *m)))
        .filter(|(_, m)| module == *m || module.starts_with(&format!("{m}::")))
        .max_by_key(|(_, m)| m.len())
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
    pub fn mermaid(&self, name: &str, stages: &[Stage], circles: &[Vec<String>]) -> String {
        let id = |m: &str| {
            if m.is_empty() {
                "root".to_string()
            } else {
                m.replace("::", "__")
            }
        };
        let label = |m: &str| if m.is_empty() { "(root)" } else { m }.to_string();
        let group = |m: &str| match stage_of(stages, m) {
            Some(i) => stages[i].name.to_string(),
            None if stages.is_empty() => m.split("::").next().unwrap_or(m).to_string(),
            None => "top".to_string(),
        };
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for m in self.edges.keys() {
            groups.entry(group(m)).or_default().push(m);
        }
        let mut out = format!("\n```mermaid\n---\ntitle: {name}\n---\nflowchart LR\n");
        for (g, members) in &groups {
            if members.len() > 1 || stages.iter().any(|s| s.name == g) {
                let _ = writeln!(
                    out,
                    "  subgraph {}[\"{g}\"]",
                    g.chars()
                        .map(|c| if c.is_alphanumeric() { c } else { '_' })
                        .collect::<String>()
                        + "_group"
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
    pub fn back_up(&self, stages: &[Stage]) -> Vec<(String, String)> {
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
