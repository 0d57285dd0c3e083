//! The charts comparing two or more runs.
use std::path::{Path, PathBuf};

use crate::run::Run;
use crate::Options;

pub fn render(_runs: &[Run], _dir: &Path, _opts: &Options) -> anyhow::Result<Vec<PathBuf>> {
    Ok(Vec::new())
}
