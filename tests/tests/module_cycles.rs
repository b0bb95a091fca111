//! No import cycle between the modules of a crate (issue 16): of the
//! modules side by side in one folder, one that uses another's items must
//! not be used back, directly or through others. A cycle means some item
//! sits in the wrong file (function/ had four files in one: setup,
//! colocated, lifecycle and event_loop), or a lower layer calls upward
//! (component/ used input/, which uses component/).
//!
//! Each source file is a module. Its references are its `use` trees and
//! every path in its code (macro arguments included) that starts with
//! `crate`, `super`, `self` or one of its own submodules. A reference lands
//! in the module that *defines* the item: a `pub use` re-export is followed
//! to its source. Between two modules, the reference counts as one between
//! the two siblings that hold them (`input::webhook::verify` using
//! `component::metadata` is `input` using `component`). A folder's `mod.rs`
//! using its own files, and those files using what `mod.rs` defines (the
//! folder's shared types), is how Rust modules are built, and is not
//! counted. Test code (`#[cfg(test)]`) is left out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Attribute, Item, UseTree, Visibility};

type ModPath = Vec<String>;

#[derive(Default)]
struct Module {
    file: PathBuf,
    /// The submodules it declares, by name.
    children: BTreeSet<String>,
    /// `pub use` names and the absolute paths they stand for.
    reexports: HashMap<String, ModPath>,
    /// Every absolute path it refers to.
    references: Vec<ModPath>,
}

fn is_test(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.parse_args::<syn::Meta>().is_ok_and(|m| m.path().is_ident("test")))
}

/// `prefix::tree` as its leaves: (path, the name it is bound to).
fn expand(prefix: &ModPath, tree: &UseTree, out: &mut Vec<(ModPath, String)>) {
    let with = |name: String| {
        let mut path = prefix.clone();
        path.push(name);
        path
    };
    match tree {
        UseTree::Path(p) => expand(&with(p.ident.to_string()), &p.tree, out),
        UseTree::Name(n) if n.ident == "self" => out.push((prefix.clone(), prefix.last().cloned().unwrap_or_default())),
        UseTree::Name(n) => out.push((with(n.ident.to_string()), n.ident.to_string())),
        UseTree::Rename(r) => out.push((with(r.ident.to_string()), r.rename.to_string())),
        UseTree::Glob(_) => out.push((prefix.clone(), "*".to_owned())),
        UseTree::Group(g) => g.items.iter().for_each(|t| expand(prefix, t, out)),
    }
}

/// A path as written in `module` made absolute, or `None` when it leaves the
/// crate (another crate, std, a local name).
fn absolute(module: &ModPath, children: &BTreeSet<String>, segments: &[String]) -> Option<ModPath> {
    let (first, rest) = segments.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.clone(),
        "super" => module[..module.len().checked_sub(1)?].to_vec(),
        name if children.contains(name) => [module.clone(), vec![name.to_owned()]].concat(),
        _ => return None,
    };
    // `super::super::…`
    let mut rest = rest;
    while let Some(tail) = rest.strip_prefix(&["super".to_owned()][..]) {
        base.pop()?;
        rest = tail;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Collects the paths of code, and the `a::b` runs inside macro arguments.
struct Paths(Vec<Vec<String>>);

impl Paths {
    fn tokens(&mut self, tokens: TokenStream) {
        let mut run: Vec<String> = Vec::new();
        let mut colons = 0;
        let flush = |run: &mut Vec<String>, paths: &mut Vec<Vec<String>>| {
            if run.len() > 1 {
                paths.push(std::mem::take(run));
            }
            run.clear();
        };
        for token in tokens {
            match token {
                TokenTree::Ident(ident) if colons == 2 || run.is_empty() => {
                    if colons != 2 {
                        flush(&mut run, &mut self.0);
                    }
                    run.push(ident.to_string());
                    colons = 0;
                }
                TokenTree::Punct(p) if p.as_char() == ':' && !run.is_empty() && colons < 2 => colons += 1,
                TokenTree::Group(group) => {
                    flush(&mut run, &mut self.0);
                    colons = 0;
                    self.tokens(group.stream());
                }
                TokenTree::Ident(ident) => {
                    flush(&mut run, &mut self.0);
                    run.push(ident.to_string());
                    colons = 0;
                }
                _ => {
                    flush(&mut run, &mut self.0);
                    colons = 0;
                }
            }
        }
        flush(&mut run, &mut self.0);
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            self.0.push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }

    fn visit_attribute(&mut self, _: &'ast Attribute) {}

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}
}

fn without_test_code(items: &[Item]) -> Vec<&Item> {
    items
        .iter()
        .filter(|item| {
            let attrs = match item {
                Item::Mod(m) => &m.attrs,
                Item::Fn(f) => &f.attrs,
                Item::Use(u) => &u.attrs,
                Item::Impl(i) => &i.attrs,
                Item::Struct(s) => &s.attrs,
                Item::Const(c) => &c.attrs,
                _ => return true,
            };
            !is_test(attrs)
        })
        .collect()
}

/// Reads `file`, module `path`, and every submodule it declares.
fn load(file: &Path, path: ModPath, modules: &mut BTreeMap<ModPath, Module>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let folder = file.parent().expect("a source file is in a folder");
    let dir = match file.file_stem().and_then(|s| s.to_str()) {
        Some("mod" | "lib" | "main") => folder.to_path_buf(),
        Some(stem) => folder.join(stem),
        None => panic!("{}: not a Rust file", file.display()),
    };
    let mut module = Module { file: file.to_path_buf(), ..Module::default() };
    let items = without_test_code(&syntax.items);
    for item in &items {
        if let Item::Mod(m) = item {
            module.children.insert(m.ident.to_string());
        }
    }
    let mut written = Paths(Vec::new());
    for item in &items {
        match item {
            Item::Mod(m) if m.content.is_none() => {
                let name = m.ident.to_string();
                let child = [dir.join(format!("{name}.rs")), dir.join(&name).join("mod.rs")]
                    .into_iter()
                    .find(|p| p.is_file())
                    .unwrap_or_else(|| panic!("{}: no file for mod {name}", file.display()));
                load(&child, [path.clone(), vec![name]].concat(), modules);
            }
            // An inline module's paths are read as the file's own.
            Item::Mod(m) => {
                for inner in m.content.as_ref().map(|(_, items)| without_test_code(items)).unwrap_or_default() {
                    written.visit_item(inner);
                }
            }
            Item::Use(u) => {
                let mut leaves = Vec::new();
                expand(&Vec::new(), &u.tree, &mut leaves);
                for (segments, name) in leaves {
                    let Some(target) = absolute(&path, &module.children, &segments) else { continue };
                    if !matches!(u.vis, Visibility::Inherited) && name != "*" {
                        module.reexports.insert(name, target.clone());
                    }
                    module.references.push(target);
                }
            }
            other => written.visit_item(other),
        }
    }
    for segments in written.0 {
        if let Some(target) = absolute(&path, &module.children, &segments) {
            module.references.push(target);
        }
    }
    modules.insert(path, module);
}

/// The module that defines what `target` names, following re-exports.
fn defining_module(modules: &BTreeMap<ModPath, Module>, target: &ModPath, depth: usize) -> Option<ModPath> {
    let split = (0..=target.len()).rev().find(|&n| modules.contains_key(&target[..n]))?;
    let (module, rest) = target.split_at(split);
    if let Some(name) = rest.first()
        && let Some(source) = modules[module].reexports.get(name)
        && depth < 16
        && source.as_slice() != target.as_slice()
    {
        let followed = [source.clone(), rest[1..].to_vec()].concat();
        return defining_module(modules, &followed, depth + 1).or_else(|| Some(module.to_vec()));
    }
    Some(module.to_vec())
}

/// Every cycle's modules (strongly connected components of two or more).
fn cycles(edges: &Graph) -> Vec<Vec<ModPath>> {
    let reaches = |from: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for next in edges.get(&node).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&ModPath, BTreeSet<ModPath>> = edges.keys().map(|k| (k, reaches(k))).collect();
    let mut found: Vec<Vec<ModPath>> = Vec::new();
    for (node, reached) in &reach {
        if !reached.contains(*node) || found.iter().any(|c| c.contains(node)) {
            continue;
        }
        let component: Vec<ModPath> =
            reached.iter().filter(|other| reach.get(other).is_some_and(|r| r.contains(*node))).cloned().collect();
        found.push(component);
    }
    found
}

/// Sibling to sibling, each edge with the reference that makes it: (the
/// module it is in, the path it names, the module defining that).
type Graph = BTreeMap<ModPath, BTreeMap<ModPath, (ModPath, ModPath, ModPath)>>;

fn graph(modules: &BTreeMap<ModPath, Module>) -> Graph {
    let mut edges = Graph::new();
    for (path, module) in modules {
        for target in &module.references {
            let Some(defined_in) = defining_module(modules, target, 0) else { continue };
            let common = path.iter().zip(&defined_in).take_while(|(a, b)| a == b).count();
            // One is the other's ancestor: a folder's mod.rs and its files.
            if common == path.len() || common == defined_in.len() {
                continue;
            }
            let (from, to) = (path[..=common].to_vec(), defined_in[..=common].to_vec());
            let why = (path.clone(), target.clone(), defined_in.clone());
            edges.entry(from).or_default().entry(to).or_insert(why);
        }
    }
    edges
}

fn check_crate(root: &str) -> Vec<String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace");
    let mut modules = BTreeMap::new();
    load(&workspace.join(root), Vec::new(), &mut modules);
    let edges = graph(&modules);
    let name = |path: &ModPath| if path.is_empty() { "crate".to_owned() } else { path.join("::") };
    cycles(&edges)
        .into_iter()
        .map(|cycle| {
            let names: Vec<String> = cycle.iter().map(name).collect();
            let mut lines = vec![format!("{root}: a cycle between {}", names.join(", "))];
            for from in &cycle {
                for (to, (module, reference, defined_in)) in edges[from].iter().filter(|(to, _)| cycle.contains(to)) {
                    let file = modules[module].file.display();
                    lines.push(format!(
                        "  {} uses {}: {file} names {}, defined in {}",
                        name(from),
                        name(to),
                        name(reference),
                        name(defined_in)
                    ));
                }
            }
            lines.join("\n")
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let roots = ["shared/src/lib.rs", "cli/src/main.rs", "infra/src/lib.rs", "tests/src/lib.rs"];
    let problems: Vec<String> = roots.iter().flat_map(|root| check_crate(root)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check finds what it is for: a module pair using each other, through a
/// re-export of the parent as function/ had it.
#[test]
fn the_check_sees_a_cycle_through_a_reexport() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\npub use a::Thing;\n").unwrap();
    std::fs::write(src.join("a.rs"), "pub struct Thing;\npub fn f() { crate::b::g() }\n").unwrap();
    std::fs::write(src.join("b.rs"), "use super::Thing;\npub fn g() { let _ = Thing; }\n").unwrap();
    let mut modules = BTreeMap::new();
    load(&src.join("lib.rs"), Vec::new(), &mut modules);
    let a = vec!["a".to_owned()];
    let b = vec!["b".to_owned()];
    assert_eq!(defining_module(&modules, &vec!["Thing".to_owned()], 0), Some(a.clone()));
    let edges = graph(&modules);
    assert_eq!(cycles(&edges), vec![vec![a, b]]);
}
