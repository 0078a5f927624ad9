//! `flashgate venue check` as operators run it: the sample hall passes with its seats per
//! category; a file with a repeated seat, an empty row and an unknown preference fails, naming
//! each problem.

use std::path::Path;

async fn check(file: &Path) -> (bool, String) {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
        .args(["venue", "check"])
        .arg(file)
        .output()
        .await
        .expect("venue check runs");
    let said =
        String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    (run.status.success(), said)
}

#[tokio::test]
async fn venue_check_counts_a_good_hall_and_names_every_problem_of_a_bad_one() {
    let hall = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/venues/hall.json");
    let (ok, said) = check(&hall).await;
    assert!(ok, "{said}");
    assert!(said.contains("venue hall, 120 seats in 12 rows"), "{said}");
    assert!(
        said.contains("cat1: 60 seats") && said.contains("cat2: 60 seats"),
        "{said}"
    );

    let mut venue: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&hall).unwrap()).unwrap();
    venue["sections"][0]["rows"][0]["seats"][1]["number"] = 1.into();
    venue["sections"][1]["rows"][2]["seats"] = serde_json::json!([]);
    venue["best"] = "closest".into();
    let broken = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(broken.path(), venue.to_string()).unwrap();
    let (ok, said) = check(broken.path()).await;
    assert!(!ok, "{said}");
    for problem in [
        "seat A-1-1 is listed twice",
        "row B-3 has no seats",
        "best \"closest\"",
        "3 problem(s)",
    ] {
        assert!(said.contains(problem), "{problem}: {said}");
    }
}
