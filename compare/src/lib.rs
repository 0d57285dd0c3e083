//! Compare load-test summaries with sound statistics; fail CI on a real regression
