//! compare's human outputs, pinned: the regression table, the markdown
//! comment and the side-by-side table. After an intended change, regenerate
//! with `UPDATE_SNAPSHOTS=1 cargo test -p compare --test snapshot` and review.

mod common;

use std::path::Path;

use common::*;
use records::testkit::assert_snapshot;

/// A baseline and a current run: tasks 30% slower with more errors, health unchanged.
fn runs(dir: &Dir) -> (String, String) {
    let base = dir.summary(
        "base.ndjson",
        &[
            stats(
                "GET /api/v1/tasks",
                &lognormal(1, 4000, 20.0, 0.4, 1.0),
                8,
                60.0,
            ),
            stats("GET /health", &lognormal(2, 3000, 1.0, 0.3, 1.0), 0, 60.0),
        ],
    );
    let current = dir.summary(
        "current.ndjson",
        &[
            stats(
                "GET /api/v1/tasks",
                &lognormal(3, 4000, 20.0, 0.4, 1.3),
                80,
                60.0,
            ),
            stats("GET /health", &lognormal(4, 3000, 1.0, 0.3, 1.0), 0, 60.0),
        ],
    );
    (base, current)
}

fn pinned(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name)
}

/// Paths differ between runs; the snapshot shows file names only.
fn without_dir(text: &str, dir: &Dir) -> String {
    text.replace(&format!("{}/", dir.0.path().display()), "")
}

#[test]
fn regression_table_and_markdown_are_pinned() {
    let dir = Dir::new();
    let (base, current) = runs(&dir);
    for (format, file) in [("table", "regression.txt"), ("markdown", "regression.md")] {
        let out = compare(&[&base, &current, "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_snapshot(&pinned(file), &without_dir(&stdout(&out), &dir));
    }
}

#[test]
fn side_by_side_table_is_pinned() {
    let dir = Dir::new();
    let (base, current) = runs(&dir);
    for (format, file) in [
        ("table", "side_by_side.txt"),
        ("markdown", "side_by_side.md"),
    ] {
        let out = compare(&[
            "--label", "mono", &base, "--label", "micro", &current, "--format", format,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_snapshot(&pinned(file), &without_dir(&stdout(&out), &dir));
    }
}
