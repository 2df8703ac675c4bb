//! One import direction: no cycle among the rooms of the library (`src/`), of `udfs/src`, of the
//! imaging room (`imaging/src`) and of the binary (`src/bin/npcql`). Every file is parsed (syn),
//! and every path into the crate is followed: `use crate::{a, b::{c}}`, inline
//! `crate::report::X` in code and types, `super::` and `self::` chains from the file's module, a
//! child module named by itself, and paths inside macro calls; `pub use` re-exports are followed
//! to where the item lives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A module's path from the crate root (`["dataset", "layout"]`); empty for the root.
type Module = Vec<String>;

/// The library's rooms: its top-level modules, and inside `dataset` each reader on its own
/// (the layout, the settings file and the model outputs must not go round either).
fn library_room(module: &[String]) -> usize {
    if module.first().is_some_and(|m| m == "dataset") {
        2
    } else {
        1
    }
}

fn top_level(_: &[String]) -> usize {
    1
}

#[test]
fn the_library_has_one_import_direction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = read_tree(&root.join("src"), "lib.rs", &["bin"]);
    assert!(files.len() > 30, "found only {} files", files.len());
    let cycles = Crate::parse(&files).cycles(library_room);
    assert!(cycles.is_empty(), "import cycles in src/:\n{}", cycles.join("\n"));
}

#[test]
fn the_functions_crate_has_one_import_direction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = read_tree(&root.join("udfs/src"), "lib.rs", &[]);
    assert!(files.len() > 30, "found only {} files", files.len());
    let cycles = Crate::parse(&files).cycles(top_level);
    assert!(cycles.is_empty(), "import cycles in udfs/src:\n{}", cycles.join("\n"));
}

#[test]
fn the_imaging_room_has_one_import_direction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = read_tree(&root.join("imaging/src"), "lib.rs", &[]);
    assert!(files.len() > 5, "found only {} files", files.len());
    let cycles = Crate::parse(&files).cycles(top_level);
    assert!(
        cycles.is_empty(),
        "import cycles in imaging/src:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_radiomics_kernels_have_one_import_direction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = read_tree(&root.join("radiomics/src"), "lib.rs", &[]);
    assert!(files.len() > 10, "found only {} files", files.len());
    let cycles = Crate::parse(&files).cycles(top_level);
    assert!(
        cycles.is_empty(),
        "import cycles in radiomics/src:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_binary_has_one_import_direction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = read_tree(&root.join("src/bin/npcql"), "main.rs", &[]);
    assert!(files.len() > 5, "found only {} files", files.len());
    let cycles = Crate::parse(&files).cycles(top_level);
    assert!(
        cycles.is_empty(),
        "import cycles in src/bin/npcql:\n{}",
        cycles.join("\n")
    );
}

/// Every `.rs` file under `dir` (but not under the folders `skip`), as (path from `dir`, text),
/// `root_file` being the crate root.
fn read_tree(dir: &Path, root_file: &str, skip: &[&str]) -> Vec<(String, String)> {
    fn walk(dir: &Path, prefix: &str, skip: &[&str], out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let relative = format!("{prefix}{name}");
            if path.is_dir() {
                if !skip.contains(&relative.as_str()) {
                    walk(&path, &format!("{relative}/"), skip, out);
                }
            } else if name.ends_with(".rs") {
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, "", skip, &mut files);
    assert!(
        files.iter().any(|(f, _)| f == root_file),
        "no {root_file} in {}",
        dir.display()
    );
    // The root file is the crate root whatever it is called.
    for (file, _) in &mut files {
        if file == root_file {
            *file = "lib.rs".into();
        }
    }
    files
}

/// The module a file holds: `lib.rs` the root, `a/mod.rs` and `a.rs` the module `a`, `a/b.rs`
/// the module `a::b`.
fn module_of_file(file: &str) -> Module {
    let stem = file.trim_end_matches(".rs");
    let mut parts: Module = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// One path into the crate, written in `file` inside `from`, resolved to `target` (from the root).
#[derive(Debug, Clone)]
struct Reference {
    from: Module,
    file: String,
    target: Vec<String>,
    written: String,
}

/// What the parse of a crate's files found.
#[derive(Debug, Default)]
struct Crate {
    modules: BTreeSet<Module>,
    /// (module, name) → the path it re-exports (`pub use`, `pub(crate) use`).
    reexports: BTreeMap<(Module, String), Vec<String>>,
    references: Vec<Reference>,
}

impl Crate {
    /// Parses `files` (path from the crate's folder, text); panics on a file syn cannot read.
    fn parse(files: &[(String, String)]) -> Crate {
        let parsed: Vec<(String, Module, syn::File)> = files
            .iter()
            .map(|(file, text)| {
                let syntax = syn::parse_file(text).unwrap_or_else(|e| panic!("{file}: {e}"));
                (file.clone(), module_of_file(file), syntax)
            })
            .collect();
        let mut krate = Crate::default();
        // First every module (files and inline `mod x { }`), so relative paths can be told apart.
        for (_, module, syntax) in &parsed {
            krate.modules.insert(module.clone());
            let mut finder = InlineModules {
                current: module.clone(),
                found: &mut krate.modules,
            };
            finder.visit_file(syntax);
        }
        for (file, module, syntax) in &parsed {
            let mut reader = Paths {
                modules: &krate.modules,
                file: file.clone(),
                current: module.clone(),
                reexports: Vec::new(),
                references: Vec::new(),
            };
            reader.visit_file(syntax);
            krate.reexports.extend(reader.reexports);
            krate.references.extend(reader.references);
        }
        krate
    }

    /// The module `path` names an item of (or is), following re-exports.
    fn module_of(&self, path: &[String]) -> Module {
        let mut path = path.to_vec();
        for _ in 0..32 {
            let mut length = 0;
            while length < path.len() && self.modules.contains(&path[..=length]) {
                length += 1;
            }
            let module = path[..length].to_vec();
            match path
                .get(length)
                .and_then(|name| self.reexports.get(&(module.clone(), name.clone())))
            {
                Some(target) => path = target.iter().chain(&path[length + 1..]).cloned().collect(),
                None => return module,
            }
        }
        panic!("re-exports go round: {}", path.join("::"))
    }

    /// Room → room → the references that make the edge. A room is a module cut to
    /// `depth(module)` segments; the crate root, and a room's uses of its own sub-rooms, are no
    /// edges.
    fn edges(&self, depth: fn(&[String]) -> usize) -> BTreeMap<Module, BTreeMap<Module, Vec<&Reference>>> {
        let room = |module: &[String]| module[..module.len().min(depth(module))].to_vec();
        let mut edges: BTreeMap<Module, BTreeMap<Module, Vec<&Reference>>> = BTreeMap::new();
        for reference in &self.references {
            let (from, to) = (room(&reference.from), room(&self.module_of(&reference.target)));
            if from.is_empty() || to.is_empty() || to.starts_with(&from) {
                continue;
            }
            edges.entry(from).or_default().entry(to).or_default().push(reference);
        }
        edges
    }

    /// Each set of rooms that use each other, round and round (strongly connected, more than one).
    fn rooms_in_cycles(&self, depth: fn(&[String]) -> usize) -> Vec<BTreeSet<Module>> {
        let edges = self.edges(depth);
        let reach = |start: &Module| -> BTreeSet<Module> {
            let (mut seen, mut stack) = (BTreeSet::new(), vec![start.clone()]);
            while let Some(room) = stack.pop() {
                for next in edges.get(&room).into_iter().flat_map(|e| e.keys()) {
                    if seen.insert(next.clone()) {
                        stack.push(next.clone());
                    }
                }
            }
            seen
        };
        let reachable: BTreeMap<&Module, BTreeSet<Module>> = edges.keys().map(|r| (r, reach(r))).collect();
        let mut cycles: Vec<BTreeSet<Module>> = Vec::new();
        for (room, from_room) in &reachable {
            if !from_room.contains(*room) || cycles.iter().any(|c| c.contains(*room)) {
                continue;
            }
            let members = from_room
                .iter()
                .filter(|other| reachable.get(other).is_some_and(|r| r.contains(*room)))
                .cloned()
                .collect();
            cycles.push(members);
        }
        cycles
    }

    /// One line per set of rooms that go round: its rooms, then the shortest way round from
    /// each of them (each way once), with one reference per step.
    fn cycles(&self, depth: fn(&[String]) -> usize) -> Vec<String> {
        self.rooms_in_cycles(depth)
            .iter()
            .map(|rooms| self.describe_cycle(rooms, depth))
            .collect()
    }

    fn describe_cycle(&self, rooms: &BTreeSet<Module>, depth: fn(&[String]) -> usize) -> String {
        let edges = self.edges(depth);
        let name = |m: &Module| m.join("::");
        let mut ways: Vec<Vec<Module>> = Vec::new();
        for start in rooms {
            let way = shortest_way_round(&edges, rooms, start);
            let members: BTreeSet<&Module> = way.iter().collect();
            if !ways.iter().any(|w| w.iter().collect::<BTreeSet<_>>() == members) {
                ways.push(way);
            }
        }
        let described: Vec<String> = ways
            .iter()
            .map(|way| {
                let steps: Vec<String> = way
                    .windows(2)
                    .map(|pair| {
                        let by = edges[&pair[0]][&pair[1]][0];
                        format!("{} → {} ({}: {})", name(&pair[0]), name(&pair[1]), by.file, by.written)
                    })
                    .collect();
                format!(
                    "cycle {}: {}",
                    way.iter().map(name).collect::<Vec<_>>().join(" → "),
                    steps.join("; ")
                )
            })
            .collect();
        format!(
            "rooms {} use each other:\n  {}",
            rooms.iter().map(name).collect::<Vec<_>>().join(", "),
            described.join("\n  ")
        )
    }
}

/// The shortest way from `start` back to it through `rooms` (breadth first), start and end included.
fn shortest_way_round(
    edges: &BTreeMap<Module, BTreeMap<Module, Vec<&Reference>>>,
    rooms: &BTreeSet<Module>,
    start: &Module,
) -> Vec<Module> {
    let mut previous: BTreeMap<Module, Module> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.clone()]);
    'search: while let Some(room) = queue.pop_front() {
        for next in edges.get(&room).into_iter().flat_map(|e| e.keys()) {
            if !rooms.contains(next) {
                continue;
            }
            if next == start {
                previous.insert(start.clone(), room.clone());
                break 'search;
            }
            if !previous.contains_key(next) {
                previous.insert(next.clone(), room.clone());
                queue.push_back(next.clone());
            }
        }
    }
    let mut way = vec![start.clone()];
    let mut room = previous[start].clone();
    while room != *start {
        way.push(room.clone());
        room = previous[&room].clone();
    }
    way.push(start.clone());
    way.reverse();
    way
}

/// Collects the modules declared inline (`mod tests { … }`).
struct InlineModules<'a> {
    current: Module,
    found: &'a mut BTreeSet<Module>,
}

impl<'ast> Visit<'ast> for InlineModules<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_some() {
            self.current.push(item.ident.to_string());
            self.found.insert(self.current.clone());
            visit::visit_item_mod(self, item);
            self.current.pop();
        }
    }
}

/// Reads every path into the crate in one file.
struct Paths<'a> {
    modules: &'a BTreeSet<Module>,
    file: String,
    current: Module,
    reexports: Vec<((Module, String), Vec<String>)>,
    references: Vec<Reference>,
}

impl Paths<'_> {
    /// `segments` as written in the current module, from the crate root; `None` for another
    /// crate's path (or a local name).
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let (first, rest) = segments.split_first()?;
        match first.as_str() {
            "crate" => Some(rest.to_vec()),
            "self" => Some(self.current.iter().chain(rest).cloned().collect()),
            "super" => {
                let mut base = self.current.clone();
                let mut rest = segments;
                while let Some(("super", tail)) = rest.split_first().map(|(s, t)| (s.as_str(), t)) {
                    base.pop()?;
                    rest = tail;
                }
                Some(base.into_iter().chain(rest.iter().cloned()).collect())
            }
            child => {
                let mut module = self.current.clone();
                module.push(child.to_string());
                self.modules
                    .contains(&module)
                    .then(|| self.current.iter().chain(segments).cloned().collect())
            }
        }
    }

    fn reference(&mut self, segments: &[String]) {
        if segments.len() < 2 && segments.first().is_none_or(|s| s != "super") {
            return;
        }
        if let Some(target) = self.absolute(segments) {
            self.references.push(Reference {
                from: self.current.clone(),
                file: self.file.clone(),
                target,
                written: segments.join("::"),
            });
        }
    }

    /// Each leaf of a `use` tree under `prefix`: its full path and the name it binds.
    fn use_leaves(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                Self::use_leaves(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) if n.ident == "self" => {
                out.push((prefix.clone(), prefix.last().cloned()));
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                path.push(n.ident.to_string());
                out.push((path, Some(n.ident.to_string())));
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                if r.ident != "self" {
                    path.push(r.ident.to_string());
                }
                out.push((path, Some(r.rename.to_string())));
            }
            syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    Self::use_leaves(tree, prefix, out);
                }
            }
        }
    }

    /// Paths inside a macro call's tokens (`format!("{}", crate::x::y())`).
    fn macro_paths(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            if let TokenTree::Group(group) = &tokens[i] {
                self.macro_paths(group.stream());
                i += 1;
                continue;
            }
            let starts = matches!(&tokens[i], TokenTree::Ident(id) if id == "crate" || id == "super");
            let preceded_by_colons = i > 0 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
            if !starts || preceded_by_colons {
                i += 1;
                continue;
            }
            let mut segments = vec![tokens[i].to_string()];
            let mut j = i + 1;
            loop {
                let colons = matches!((&tokens.get(j), &tokens.get(j + 1)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':');
                match (colons, tokens.get(j + 2)) {
                    (true, Some(TokenTree::Ident(id))) => {
                        segments.push(id.to_string());
                        j += 3;
                    }
                    _ => break,
                }
            }
            self.reference(&segments);
            i = j;
        }
    }
}

impl<'ast> Visit<'ast> for Paths<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_some() {
            self.current.push(item.ident.to_string());
            visit::visit_item_mod(self, item);
            self.current.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut leaves = Vec::new();
        Self::use_leaves(&item.tree, &mut Vec::new(), &mut leaves);
        let exported = !matches!(item.vis, syn::Visibility::Inherited);
        for (path, name) in leaves {
            if path.is_empty() {
                continue;
            }
            let Some(target) = self.absolute(&path) else {
                continue;
            };
            if let (true, Some(name)) = (exported, name) {
                self.reexports.push(((self.current.clone(), name), target.clone()));
            }
            self.references.push(Reference {
                from: self.current.clone(),
                file: self.file.clone(),
                target,
                written: path.join("::"),
            });
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.reference(&segments);
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.macro_paths(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}

#[cfg(test)]
mod checker {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect()
    }

    /// The same small crate, with or without one planted back-edge.
    fn house(back_edge: &str) -> Vec<(String, String)> {
        files(&[
            (
                "lib.rs",
                "mod error; mod dataset; mod catalog; mod report; pub use catalog::Engine;",
            ),
            ("error.rs", "pub enum Error { A }"),
            ("dataset/mod.rs", "mod layout; mod config; pub use layout::Modality;"),
            (
                "dataset/layout.rs",
                "use super::config::Config; pub enum Modality { T1 }",
            ),
            ("dataset/config.rs", back_edge),
            (
                "catalog/mod.rs",
                "use crate::{error::Error, dataset::{self, Modality}}; pub struct Engine;",
            ),
            (
                "report/mod.rs",
                "mod html; fn f() -> crate::Engine { let _ = crate::error::Error::A; crate::Engine }",
            ),
            ("report/html.rs", "fn g() { let _ = super::super::catalog::Engine; }"),
        ])
    }

    #[test]
    fn a_house_without_back_edges_has_no_cycle() {
        let krate = Crate::parse(&house("pub struct Config;"));
        assert_eq!(krate.cycles(library_room), Vec::<String>::new());
        // What it saw: grouped uses, re-exports followed, inline and `super::super` paths.
        let edges = krate.edges(library_room);
        let uses = |from: &str| -> Vec<String> {
            let from: Module = from.split("::").map(str::to_string).collect();
            edges
                .get(&from)
                .map(|e| e.keys().map(|m| m.join("::")).collect())
                .unwrap_or_default()
        };
        assert_eq!(uses("catalog"), ["dataset", "dataset::layout", "error"]);
        assert_eq!(uses("report"), ["catalog", "error"]);
        assert_eq!(uses("dataset::layout"), ["dataset::config"]);
    }

    #[test]
    fn a_planted_back_edge_is_named_whichever_way_it_is_written() {
        for back_edge in [
            "use crate::dataset::layout::Modality;",
            "use crate::{error, dataset::{Modality}};",
            "use super::Modality;",
            "fn f() -> Option<super::layout::Modality> { None }",
            "fn f() { let _ = crate::dataset::Modality::T1; }",
            "fn f() { println!(\"{:?}\", crate::dataset::Modality::T1 as u8); }",
            "mod tests { fn f() { let _ = super::super::layout::Modality::T1; } }",
        ] {
            let cycles = Crate::parse(&house(back_edge)).cycles(library_room);
            assert_eq!(cycles.len(), 1, "{back_edge}: {cycles:?}");
            assert!(
                cycles[0].contains("cycle dataset::config → dataset::layout → dataset::config:"),
                "{back_edge}: {}",
                cycles[0]
            );
            assert!(cycles[0].contains("dataset/config.rs: "), "{}", cycles[0]);
        }
        // Between rooms, through the crate root's re-export.
        let mut planted = house("pub struct Config;");
        planted[1].1 = "pub enum Error { A, B(crate::Engine) }".into();
        let cycles = Crate::parse(&planted).cycles(library_room);
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert!(
            cycles[0].starts_with(
                "rooms catalog, error use each other:\n  \
                 cycle catalog → error → catalog: catalog → error (catalog/mod.rs: crate::error::Error); \
                 error → catalog (error.rs: crate::Engine)"
            ),
            "{}",
            cycles[0]
        );
    }
}
