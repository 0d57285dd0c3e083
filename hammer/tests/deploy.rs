//! The fan-outs of a many-machine run: the Kubernetes base renders, matches
//! its reviewed golden copy and validates against the Kubernetes schemas
//! offline (kubernetes-validate, which ships them); its pod command is the
//! shard.sh the local simulation runs; kube-run.sh's overlay sets N, the
//! start and the workload; ssh-run.sh runs, merges and judges a real run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use records::testkit::{assert_snapshot, bin, in_ci, run_bounded, Server};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn root() -> PathBuf {
    Path::new(ROOT).canonicalize().unwrap()
}

/// Whether `tool` runs; when it does not, outside CI the test is skipped
/// (with a note), in CI it fails: `.ci/run` installs it.
fn have(tool: &str, install: &str) -> bool {
    if Command::new(tool)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    assert!(!in_ci(), "{tool} is not installed and CI is set: {install}");
    eprintln!("SKIPPED: {tool} is not installed ({install}; CI=true makes this a failure)");
    false
}

fn render(dir: &Path) -> String {
    let out = run_bounded(
        Command::new("kubectl").arg("kustomize").arg(dir),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Validates `yaml` strictly (unknown fields are errors) against the
/// schemas of the oldest Kubernetes the Job supports (1.29, for
/// backoffLimitPerIndex) and the newest the validator knows.
fn validate(yaml: &str) {
    if !have("kubernetes-validate", "pip install kubernetes-validate") {
        return;
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), yaml).unwrap();
    for version in [&["-k", "1.29.0"][..], &[]] {
        let out = run_bounded(
            Command::new("kubernetes-validate")
                .args(["--strict"])
                .args(version)
                .arg(file.path()),
            Duration::from_secs(60),
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !text.contains("ERROR"),
            "{version:?}: {text}"
        );
        assert_eq!(text.matches(" passed for resource ").count(), 2, "{text}");
    }
}

#[test]
fn the_kubernetes_base_renders_validates_and_runs_the_simulated_pod_command() {
    if !have("kubectl", "apt-get install kubectl") {
        return;
    }
    let base = root().join("deploy/kubernetes");
    let yaml = render(&base);
    assert_snapshot(&root().join("deploy/kubernetes/tests/rendered.yaml"), &yaml);
    validate(&yaml);
    // The Job runs the ConfigMap's shard.sh, and that is the very file the
    // local simulation (tests/shards.rs) runs as N processes.
    assert!(
        yaml.contains("      - command:\n        - sh\n        - /etc/loadpipe/shard.sh\n"),
        "{yaml}"
    );
    let script = std::fs::read_to_string(base.join("shard.sh")).unwrap();
    let embedded: String = script
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    assert!(
        yaml.contains(&format!("  shard.sh: |\n{embedded}")),
        "the ConfigMap's shard.sh is not deploy/kubernetes/shard.sh"
    );
    for field in [
        "completionMode: Indexed",
        "completions: 4",
        "parallelism: 4",
        "backoffLimitPerIndex: 0",
    ] {
        assert!(yaml.contains(field), "{field}");
    }
}

#[test]
fn kube_run_overlays_the_shard_count_start_and_workload() {
    if !have("kubectl", "apt-get install kubectl") {
        return;
    }
    let out = run_bounded(
        Command::new(root().join("scripts/kube-run.sh")).args([
            "--render",
            "-n",
            "7",
            "-t",
            "http://tt.test:8080",
            "--users",
            "70",
            "--image",
            "registry.test:5000/load/loadpipe:v2",
            "--lead",
            "90",
            "--",
            "--rate",
            "700",
            "--duration",
            "5m",
        ]),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    validate(&yaml);
    for field in [
        "completions: 7",
        "parallelism: 7",
        "- name: SHARDS\n          value: \"7\"",
        "- name: TARGET\n          value: http://tt.test:8080",
        "- name: SEED_ARGS\n          value: --users 70",
        "- name: HAMMER_ARGS\n          value: --rate 700 --duration 5m",
        "image: registry.test:5000/load/loadpipe:v2",
    ] {
        assert!(yaml.contains(field), "no `{field}` in\n{yaml}");
    }
    let start: u64 = yaml
        .split("- name: START_AT\n          value: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("START_AT in Unix seconds");
    let now = records::units::now_ns() / 1_000_000_000;
    assert!(
        start > now + 80 && start <= now + 91,
        "start {start}, now {now}"
    );
    // Bad input is refused before anything is applied.
    let bad = run_bounded(
        Command::new(root().join("scripts/kube-run.sh")).args(["--render", "-n", "x"]),
        Duration::from_secs(30),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--shards needs a whole number"));
}

#[test]
fn ssh_run_fans_out_merges_and_judges_the_whole() {
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    // One event per arrival: the mix without the task-lifecycle flow.
    let mix_only = records::testkit::tasktracker_without_flows(dir.path());
    // "ssh HOST COMMAND" run here: three hosts that are this machine.
    let ssh = dir.path().join("ssh");
    std::fs::write(&ssh, "#!/bin/sh\nshift\nexec sh -c \"$*\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let remote_dirs = || -> Vec<String> {
        std::fs::read_dir("/tmp")
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("loadpipe-"))
            .collect()
    };
    let before = remote_dirs();
    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        "# three shards\nhost-a\nhost-b  # the second\n\nhost-c\n",
    )
    .unwrap();
    let tools = bin("aggregate").parent().unwrap().to_path_buf();
    let run = |out: &Path, threshold: &str| {
        run_bounded(
            Command::new(root().join("scripts/ssh-run.sh"))
                .env("SSH", &ssh)
                .env("BIN", &tools)
                .arg("-H")
                .arg(&hosts)
                .arg("--remote-bin")
                .arg(&tools)
                .args([
                    "-s",
                    mix_only.to_str().unwrap(),
                    "-t",
                    &server.url,
                    "--users",
                    "6",
                    "--lead",
                    "3",
                ])
                .args(["--threshold", threshold, "-o"])
                .arg(out)
                .args(["--", "--rate", "60", "--duration", "2s", "--think", "0s"]),
            Duration::from_secs(120),
        )
    };
    let out = dir.path().join("run");
    // Each shard sends 20/s, under the limit; the whole sends 60/s.
    let judged = run(&out, "rps<50");
    let stderr = String::from_utf8_lossy(&judged.stderr);
    assert_eq!(judged.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("threshold broken: rps<50") && stderr.contains("3 of 3 shards done"),
        "{stderr}"
    );
    let summary = std::fs::read(out.join("summary.ndjson")).unwrap();
    let records = records::ndjson::read_from::<records::Summary>(&summary[..], "summary").unwrap();
    let info = records
        .iter()
        .find_map(|r| match r {
            records::Summary::Run(info) => Some(info.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(info.shards, 3);
    let total = records
        .iter()
        .find_map(|r| match r {
            records::Summary::Total(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(total.count, 120);
    assert!(out.join("table.txt").exists() && out.join("shards/shard-2.ndjson").exists());
    let passed = run(&dir.path().join("again"), "rps<100");
    assert_eq!(
        passed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&passed.stderr)
    );
    // The hosts' folders are gone.
    assert_eq!(remote_dirs(), before);
}

/// A stand-in `kubectl` for kube-run.sh: `kustomize` is the real one's;
/// `apply -k` starts the Job's N pods as local processes running shard.sh
/// with the rendered Job's environment; `get`, `logs` and `delete` answer
/// as the API would. Everything it keeps is under $FAKE_CLUSTER.
const FAKE_KUBECTL: &str = r#"#!/bin/bash
set -eu
state=$FAKE_CLUSTER
case $1 in
    --namespace) shift 2 ;;
esac
case $1 in
    kustomize) exec "$REAL_KUBECTL" "$@" ;;
    apply)
        dir=$3
        yaml=$("$REAL_KUBECTL" kustomize "$dir")
        value() { printf '%s\n' "$yaml" | grep -A1 -- "- name: $1\$" | sed -n 's/^ *value: //p' | head -1 | sed 's/^"//; s/"$//'; }
        n=$(value SHARDS)
        echo "$n" >"$state/shards"
        for i in $(seq 0 $((n - 1))); do
            (
                env SHARDS="$n" JOB_COMPLETION_INDEX="$i" START_AT="$(value START_AT)" \
                    TARGET="$(value TARGET)" SEED_ARGS="$(value SEED_ARGS)" \
                    HAMMER_ARGS="$(value HAMMER_ARGS)" SCENARIO="$dir/scenario.toml" \
                    sh "$SHARD_SH" >"$state/pod-$i.log" 2>&1 && echo ok >"$state/done-$i" || echo failed >"$state/done-$i"
            ) &
        done
        echo "job.batch/loadpipe created"
        ;;
    get)
        if [ "$2" = pods ]; then
            for i in $(seq 0 $(($(cat "$state/shards") - 1))); do echo "pod-$i $i"; done
        else
            echo "$(cat "$state"/done-* 2>/dev/null | grep -c ok || true) $(cat "$state"/done-* 2>/dev/null | grep -c failed || true)"
        fi
        ;;
    logs) cat "$state/$2.log" ;;
    delete) echo deleted >"$state/deleted" ;;
    *) echo "fake kubectl: $*" >&2; exit 1 ;;
esac
"#;

#[test]
fn kube_run_applies_waits_collects_merges_and_cleans_up() {
    if !have("kubectl", "apt-get install kubectl") {
        return;
    }
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    // One event per arrival: the mix without the task-lifecycle flow.
    let mix_only = records::testkit::tasktracker_without_flows(dir.path());
    let fake = dir.path().join("bin");
    std::fs::create_dir(&fake).unwrap();
    let kubectl = fake.join("kubectl");
    std::fs::write(&kubectl, FAKE_KUBECTL).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = dir.path().join("cluster");
    std::fs::create_dir(&cluster).unwrap();
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v kubectl"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let tools = bin("aggregate").parent().unwrap().to_path_buf();
    let out = dir.path().join("run");
    let ran = run_bounded(
        Command::new(root().join("scripts/kube-run.sh"))
            .env(
                "PATH",
                format!(
                    "{}:{}:{}",
                    fake.display(),
                    tools.display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("REAL_KUBECTL", real.trim())
            .env("FAKE_CLUSTER", &cluster)
            .env("SHARD_SH", root().join("deploy/kubernetes/shard.sh"))
            .env("BIN", &tools)
            .args([
                "-n",
                "3",
                "-s",
                mix_only.to_str().unwrap(),
                "-t",
                &server.url,
                "--users",
                "6",
                "--lead",
                "3",
            ])
            .args(["--threshold", "rps<50", "-o"])
            .arg(&out)
            .args(["--", "--rate", "60", "--duration", "2s", "--think", "0s"]),
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&ran.stderr);
    // 20/s a shard, 60/s in all: broken on the whole only.
    assert_eq!(ran.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("3 shards succeeded, 0 failed") && stderr.contains("merged 3 shards"),
        "{stderr}"
    );
    for i in 0..3 {
        let summary =
            std::fs::read_to_string(out.join(format!("shards/shard-{i}.ndjson"))).unwrap();
        assert!(
            summary.lines().all(|l| l.starts_with("{\"kind\":")),
            "shard {i}: {summary}"
        );
        assert!(summary.contains(&format!("\"shard\":\"{i}/3\"")));
    }
    assert!(out.join("summary.ndjson").exists() && out.join("manifests.yaml").exists());
    assert!(cluster.join("deleted").exists(), "the Job was not deleted");
}
