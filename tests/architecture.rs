//! What may import what (docs/architecture.md): the crate's top-level modules and the front
//! end's TypeScript modules each form an acyclic import graph. A new cycle fails here, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Finds a cycle in `graph` (node -> the nodes it imports), as the path around it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(n: &str, g: &BTreeMap<String, BTreeSet<String>>, state: &mut BTreeMap<String, u8>, path: &mut Vec<String>) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => return Some(path[path.iter().position(|p| p == n).unwrap()..].iter().cloned().chain([n.to_string()]).collect()),
            _ => {}
        }
        state.insert(n.into(), 1);
        path.push(n.into());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.into(), 2);
        None
    }
    let mut state = BTreeMap::new();
    graph.keys().find_map(|n| visit(n, graph, &mut state, &mut Vec::new()))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// Code lines only: comments may name any module.
fn code(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim_start).filter(|l| !l.starts_with("//"))
}

#[test]
fn crate_modules_import_each_other_without_cycles() {
    let lib = std::fs::read_to_string("src/lib.rs").unwrap();
    let modules: BTreeSet<String> = code(&lib).filter_map(|l| l.strip_prefix("pub mod ").or_else(|| l.strip_prefix("mod "))).map(|m| m.trim_end_matches(';').to_string()).collect();
    assert!(modules.contains("gits") && modules.contains("model"), "{modules:?}");
    let mut paths = Vec::new();
    files(Path::new("src"), "rs", &mut paths);
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for path in paths.iter().filter(|p| !p.starts_with("src/bin")) {
        let rel = path.strip_prefix("src").unwrap();
        let from = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
        if !modules.contains(&from) {
            continue; // lib.rs
        }
        let text = std::fs::read_to_string(path).unwrap();
        for line in code(&text) {
            for (i, _) in line.match_indices("crate::") {
                let to: String = line[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if to != from && modules.contains(&to) {
                    graph.get_mut(&from).unwrap().insert(to);
                }
            }
        }
    }
    assert!(!graph["model"].is_empty() && graph["gits"].contains("model"), "the scan found the imports: {graph:?}");
    assert_eq!(cycle(&graph), None, "an import cycle between crate modules");
}

#[test]
fn front_end_modules_import_each_other_without_cycles() {
    let mut paths = Vec::new();
    files(Path::new("www"), "ts", &mut paths);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in paths.iter().filter(|p| !p.starts_with("www/pkg")) {
        let from = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let deps = graph.entry(from).or_default();
        for line in code(&text).filter(|l| l.starts_with("import ") || l.starts_with("export ")) {
            if let Some(i) = line.find("from './") {
                let target = &line[i + 8..];
                let name = target.split(['\'', '"']).next().unwrap().trim_end_matches(".js");
                if !name.starts_with("pkg/") {
                    deps.insert(name.to_string());
                }
            }
        }
    }
    assert!(graph["engine"].contains("protocol") && graph["main"].len() > 5, "the scan found the imports: {graph:?}");
    assert_eq!(cycle(&graph), None, "an import cycle between front-end modules");
}

/// The checker itself finds a cycle where there is one.
#[test]
fn the_cycle_finder_finds_cycles() {
    let g = |edges: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            m.entry(a.to_string()).or_default().insert(b.to_string());
            m.entry(b.to_string()).or_default();
        }
        m
    };
    assert_eq!(cycle(&g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}
