//! The docs keep up with the tree: every source file appears in the module map of
//! docs/architecture.md.

use std::path::Path;

fn sources(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "lua") {
            found.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
}

#[test]
fn every_source_file_is_in_the_module_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let map = &doc[doc.find("## Module map").expect("a module map")..];
    for dir in ["sale/src", "edge/src", "origin/src", "src", "tests/it"] {
        let mut found = Vec::new();
        sources(&root.join(dir), &mut found);
        for name in found {
            let listed = map.contains(&format!("/{name}`"))
                || map.contains(&format!("`{name}`"))
                || map.contains(&format!(" {name},"))
                || map.contains(&format!("`{name},"));
            assert!(listed, "{dir}/…/{name} is missing from the module map");
        }
    }
}
