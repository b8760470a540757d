//! Every scrape configuration in deploy/ is accepted by VictoriaMetrics'
//! own parser (`-promscrape.config.dryRun`, strict: unknown fields fail),
//! and the vmagent ones by `vmagent -dryRun` too.

use std::path::{Path, PathBuf};
use std::process::Command;

use asdlc_testkit::tools::{VICTORIA_METRICS, VMAGENT};

/// YAML files under `dir` that hold a `scrape_configs:` section.
fn scrape_configs(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scrape_configs(&path, found);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml")
            && std::fs::read_to_string(&path)
                .unwrap()
                .contains("scrape_configs:")
        {
            found.push(path);
        }
    }
}

#[test]
fn every_scrape_config_passes_victoria_metrics_dry_run() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut configs = Vec::new();
    scrape_configs(&deploy, &mut configs);
    configs.sort();
    let names: Vec<String> = configs
        .iter()
        .map(|p| p.strip_prefix(&deploy).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "kubernetes/scrape-config.yml",
            "vmagent-remote-write.yml",
            "vmagent.yml"
        ]
    );

    // Every config by victoria-metrics' parser; the vmagent ones also by
    // vmagent's own dry run, since vmagent is what runs them.
    let victoria = VICTORIA_METRICS.path().unwrap();
    let vmagent = VMAGENT.path().unwrap();
    for config in &configs {
        let mut checks = vec![(&victoria, "-promscrape.config.dryRun")];
        if config
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("vmagent"))
        {
            checks.push((&vmagent, "-dryRun"));
        }
        for (binary, dry_run) in checks {
            let out = Command::new(binary)
                .arg(format!("-promscrape.config={}", config.display()))
                .arg(dry_run)
                .arg("-loggerLevel=ERROR")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{} rejected by {}: {}{}",
                config.display(),
                binary.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn the_dry_run_does_reject_a_broken_config() {
    // Guards the test above: dry-run must fail on a config it cannot use.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "scrape_configs:\n  - job_name: x\n    static_configs:\n      - targetz: [\"a:1\"]\n",
    )
    .unwrap();
    let out = Command::new(VICTORIA_METRICS.path().unwrap())
        .arg(format!("-promscrape.config={}", broken.display()))
        .arg("-promscrape.config.dryRun")
        .arg("-loggerLevel=ERROR")
        .output()
        .unwrap();
    assert!(!out.status.success());
}
