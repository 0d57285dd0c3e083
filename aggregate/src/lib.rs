//! Turn Events into HdrHistogram statistics, time series, CSV and CI thresholds
