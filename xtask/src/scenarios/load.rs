//! The runs `cargo xtask test` makes: the scenario file read, its rows
//! checked and expanded, the chosen ones kept.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::dimensions::DIMENSIONS;
use super::expand::expand;
use super::file::ScenarioFile;
use super::scenario::Scenario;

pub fn load(path: &Path, full: bool, filter: Option<&str>) -> Result<Vec<Scenario>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: ScenarioFile =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for row in &file.scenario {
        let hole = row
            .negative_control
            .hole()
            .with_context(|| format!("scenario {:?}", row.name))?;
        if let (Some(hole), true) = (hole, row.negative_expect.is_empty()) {
            bail!(
                "scenario {:?} is a negative control without negative_expect: name the failure the {} build must end in",
                row.name,
                hole.feature()
            );
        }
        if let Some(d) = DIMENSIONS.iter().find(|d| (d.count)(row) == 0) {
            bail!(
                "scenario {:?}: its {} list is empty, which gives no run",
                row.name,
                d.field
            );
        }
    }
    let matches = |s: &Scenario| filter.is_none_or(|f| s.name.contains(f));
    let chosen: Vec<Scenario> = file
        .scenario
        .iter()
        .filter(|row| full || !row.full)
        .flat_map(expand)
        .filter(matches)
        .collect();
    if let (true, Some(f)) = (chosen.is_empty(), filter) {
        let only_full = file
            .scenario
            .iter()
            .filter(|row| row.full)
            .flat_map(expand)
            .filter(matches)
            .count();
        if only_full > 0 && !full {
            bail!("--filter {f:?} matches only rows marked full ({only_full} runs): add --full");
        }
        let names: Vec<&str> = file.scenario.iter().map(|r| r.name.as_str()).collect();
        let close = crate::checks::close_names(f, names.iter().copied(), 8);
        bail!(
            "--filter {f:?} matches no scenario of {} ({} rows); {}",
            crate::ui::show(path),
            names.len(),
            match close.is_empty() {
                true => format!(
                    "none is close; the rows begin {}, ...",
                    names.iter().take(6).copied().collect::<Vec<_>>().join(", ")
                ),
                false => format!("close names: {}", close.join(", ")),
            }
        );
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_file_parses_and_expands() {
        let all = load(&crate::root().join("tests/scenarios.toml"), true, None).unwrap();
        assert!(all.len() >= 10);
        let boot: Vec<_> = all
            .iter()
            .filter(|s| s.name.starts_with("boot-memory-map["))
            .collect();
        assert_eq!(boot.len(), 12, "3 machines x 2 memory sizes x 2 CPU models");
    }

    #[test]
    fn an_empty_list_is_named() {
        let path =
            std::env::temp_dir().join(format!("baton-empty-list-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "[[scenario]]\nname = \"e\"\nsmp = []\nexpect = \"pass\"\n",
        )
        .unwrap();
        let e = load(&path, true, None).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(e.to_string().contains("its smp list is empty"), "{e}");
    }
}
