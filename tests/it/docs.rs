//! The docs keep up with the tree: every source file appears in the module map of
//! docs/architecture.md, and the edge serves docs/openapi.json as it is.

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

#[tokio::test]
async fn the_edge_serves_the_api_description_from_docs() {
    let stack = crate::harness::Stack::start(crate::harness::StackOptions::default()).await;
    let response = reqwest::get(stack.url("/api/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    let kept = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(kept, "public, max-age=300");
    let served: serde_json::Value = response.json().await.unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::read_to_string(root.join("docs/openapi.json")).unwrap();
    let documented: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(served, documented);
    assert_eq!(served["openapi"], "3.1.0");

    // Compressed for a client that takes it, and not sent again to one that has it.
    let client = reqwest::Client::new();
    let url = stack.url("/api/openapi.json");
    let compressed = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let etag = compressed.headers()["etag"].clone();
    assert!(compressed.bytes().await.unwrap().len() < file.len() / 3);
    let again = client
        .get(&url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
