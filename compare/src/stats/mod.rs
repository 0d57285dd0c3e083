//! The statistics behind a verdict, each computed from histogram buckets
//! rather than raw samples: a summary keeps only its histograms, and a pass
//! over a few thousand buckets costs the same for a hundred requests or a
//! hundred million.

pub mod buckets;
pub mod holm;
pub mod ks;
pub mod mannwhitney;
pub mod proportions;

pub use buckets::{tie_groups, TieGroup};
pub use holm::holm;
pub use ks::KolmogorovSmirnov;
pub use mannwhitney::MannWhitney;
pub use proportions::{ProportionMethod, ProportionTest};
