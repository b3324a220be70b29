//! A crate's module graph read from its source: the files its `mod` lines
//! declare, and the modules each one's paths name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::graph::Graph;

/// The module path of a file under the crate's folder (`machine/smp.rs` ->
/// `machine::smp`, `acpi/mod.rs` -> `acpi`, the root file -> "").
pub(super) fn module_of(relative: &Path, root_file: &str) -> Option<String> {
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
pub(super) fn crate_files(dir: &Path, root_file: &str) -> Result<BTreeMap<String, String>> {
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
pub(super) fn declared_modules(text: &str) -> Vec<String> {
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
pub(super) fn without_tests(text: &str) -> String {
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
pub(super) fn named_paths(module: &str, text: &str) -> Vec<Vec<String>> {
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
            // Part of a longer path, or the text of a string literal.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '"') {
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
            let named = words(rest);
            if named.is_empty() {
                continue;
            }
            let mut path = base.clone();
            path.extend(named);
            out.push(path);
        }
    }
    out
}

/// `super::` inside an inline `mod x { ... }` block names the file's own
/// module, not its parent: written out as `crate::<module>::`.
pub(super) fn inline_supers_resolved(module: &str, text: &str) -> String {
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
pub(super) fn words(s: &str) -> Vec<String> {
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
pub(super) fn reexports(root: &str) -> BTreeMap<String, Vec<String>> {
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
pub fn crate_graph(dir: &Path, root_file: &str) -> Result<Graph> {
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
pub(super) fn is_child(parent: &str, child: &str) -> bool {
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
pub(super) fn names_child(code: &str, name: &str) -> bool {
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
