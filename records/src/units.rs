//! Durations as people type them (`500ms`, `30s`, `5m`, `1h`, `1m30s`) and
//! latencies as people read them.

use std::time::Duration;

/// Parses `500ms`, `30s`, `5m`, `1h`, `1.5s`, `250us`, `10ns`, `1m30s` or `0`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; expected e.g. 500ms, 30s, 5m, 1h".into());
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total_ns: f64 = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{text}` has no unit; expected e.g. 500ms, 30s, 5m, 1h"))?;
        if number_len == 0 {
            return Err(format!(
                "`{text}` is not a duration; expected e.g. 500ms, 30s, 5m, 1h"
            ));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("`{text}`: bad number `{}`", &rest[..number_len]))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            unit => {
                return Err(format!(
                    "`{text}`: unknown unit `{unit}`; use ns, us, ms, s, m, h or d"
                ))
            }
        };
        total_ns += number * scale;
        rest = &rest[unit_len..];
    }
    if !total_ns.is_finite() || total_ns > u64::MAX as f64 {
        return Err(format!("`{text}` is too long a duration"));
    }
    Ok(Duration::from_nanos(total_ns.round() as u64))
}

/// A sampling interval (`--interval` of the watch tools): a duration of at
/// least 10 ms, below which /proc's and the database's own clocks blur it.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(10) {
        return Err(format!(
            "`{text}` is too short; the interval must be at least 10ms"
        ));
    }
    Ok(d)
}

/// The first tick after `now` on the grid `start + k * interval` (k ≥ 1):
/// a sampling loop's next wake-up. Ticks missed while a sample ran long are
/// skipped, not bunched, and the grid does not drift.
pub fn following_tick(
    start: std::time::Instant,
    interval: Duration,
    now: std::time::Instant,
) -> std::time::Instant {
    let elapsed = now.saturating_duration_since(start).as_nanos();
    let step = interval.as_nanos().max(1);
    let k = elapsed / step + 1;
    start + Duration::from_nanos((k * step).min(u64::MAX as u128) as u64)
}

/// A latency in nanoseconds, short and readable: `812µs`, `1.84ms`, `2.50s`.
pub fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else if ns < 60e9 {
        (ns / 1e9, "s")
    } else {
        return format_duration(Duration::from_nanos(ns as u64));
    };
    if unit == "ns" || value >= 100.0 {
        format!("{value:.0}{unit}")
    } else if value >= 10.0 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.2}{unit}")
    }
}

/// A run length as people write it: `1h2m3s`, `45s`, `1.5s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if s > 0 || out.is_empty() {
            out.push_str(&format!("{s}s"));
        }
        out
    } else {
        format_ns(d.as_nanos() as f64)
    }
}

/// A ratio (0..1) as a percentage, with the digits small rates need:
/// `0.00%`, `0.005%`, `1.25%`, `100.00%`.
pub fn percent(ratio: f64) -> String {
    let pct = ratio * 100.0;
    if pct != 0.0 && pct.abs() < 0.01 {
        format!("{pct:.3}%")
    } else {
        format!("{pct:.2}%")
    }
}

/// A rate per second: `1234/s`, `12.5/s`.
pub fn rate(per_s: f64) -> String {
    if per_s.abs() >= 100.0 {
        format!("{per_s:.0}/s")
    } else {
        format!("{per_s:.1}/s")
    }
}

/// A number rounded to a whole one, digits grouped by three: `1,234,567`.
pub fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0.0 && digits != "0" {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How a column of a text table is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Names and words.
    Left,
    /// Numbers.
    Right,
}

/// Rows as a text table: each column padded to its widest cell (counted in
/// characters, so `µs` aligns), two spaces apart, every line after `indent`,
/// trailing spaces trimmed. `align[i]` aligns column i; columns past the end
/// of `align` take its last entry.
pub fn columns(rows: &[Vec<String>], align: &[Align], indent: &str) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; n];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(widths[i] - cell.chars().count());
            match align
                .get(i)
                .or(align.last())
                .copied()
                .unwrap_or(Align::Left)
            {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Parses a size as people type it: `0`, `512`, `500KB`, `500MB`, `1.5GB`
/// (powers of 1000), `512KiB`, `500MiB`, `2GiB` (powers of 1024), `B` for
/// bytes; case of the unit does not matter. Returns bytes.
pub fn parse_bytes(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("`{text}` is not a size; expected e.g. 500MB, 2GiB or 0"))?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "`{text}`: unknown size unit `{unit}`; use B, KB, MB, GB, TB (×1000) or KiB, MiB, GiB, TiB (×1024)"
            ))
        }
    };
    Ok(value * scale)
}

/// A size as people read it, in powers of 1000: `812B`, `31.5MB`, `6.44GB`.
pub fn format_bytes(bytes: f64) -> String {
    let sign = if bytes < 0.0 { "-" } else { "" };
    let b = bytes.abs();
    let (value, unit) = if b < 1e3 {
        return format!("{sign}{b:.0}B");
    } else if b < 1e6 {
        (b / 1e3, "KB")
    } else if b < 1e9 {
        (b / 1e6, "MB")
    } else if b < 1e12 {
        (b / 1e9, "GB")
    } else {
        (b / 1e12, "TB")
    };
    if value >= 100.0 {
        format!("{sign}{value:.0}{unit}")
    } else if value >= 10.0 {
        format!("{sign}{value:.1}{unit}")
    } else {
        format!("{sign}{value:.2}{unit}")
    }
}

/// A wall-clock instant as Unix epoch nanoseconds: RFC 3339
/// (`2026-12-03T15:00:00Z`, `2026-12-03T16:00:00.5+01:00`) or Unix seconds
/// (`1764774000`, `1764774000.25`).
pub fn parse_time(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = |why: &str| {
        format!(
            "`{text}` is not a time: {why}; write RFC 3339 (2026-12-03T15:00:00Z) or Unix seconds"
        )
    };
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
        let secs: u64 = secs.parse().map_err(|_| bad("bad seconds"))?;
        return secs
            .checked_mul(1_000_000_000)
            .and_then(|ns| ns.checked_add(fraction_ns(frac).ok()?))
            .ok_or_else(|| bad("out of range"));
    }
    let b = t.as_bytes();
    let digits = |from: usize, len: usize| -> Result<i64, String> {
        t.get(from..from + len)
            .filter(|d| d.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| bad("expected YYYY-MM-DDTHH:MM:SS"))
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS and a zone"));
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return Err(bad("no such month")),
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return Err(bad("no such date or time of day"));
    }
    let mut rest = &t[19..];
    let mut frac_ns = 0;
    if let Some(after) = rest.strip_prefix('.') {
        let end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        frac_ns = fraction_ns(&after[..end]).map_err(|e| bad(&e))?;
        rest = &after[end..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        zone if zone.len() == 6 && matches!(&zone[..1], "+" | "-") && &zone[3..4] == ":" => {
            let hours: i64 = zone[1..3].parse().map_err(|_| bad("bad zone"))?;
            let minutes: i64 = zone[4..6].parse().map_err(|_| bad("bad zone"))?;
            let sign = if &zone[..1] == "-" { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return Err(bad("the zone must be Z or ±HH:MM")),
    };
    // Howard Hinnant's days-from-civil (proleptic Gregorian calendar).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    u64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .and_then(|ns| ns.checked_add(frac_ns))
        .ok_or_else(|| bad("before 1970 or too far ahead"))
}

/// `"25"` (of `.25` seconds) in nanoseconds; digits past the ninth are dropped.
fn fraction_ns(digits: &str) -> Result<u64, String> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bad fraction of a second".into());
    }
    let kept = &digits[..digits.len().min(9)];
    let scale = 10u64.pow(9 - kept.len() as u32);
    Ok(if kept.is_empty() {
        0
    } else {
        kept.parse::<u64>().map_err(|e| e.to_string())? * scale
    })
}

/// Unix epoch nanoseconds now.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_rfc3339_or_unix_seconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        // `date -u -d 2026-12-03T15:00:00Z +%s` = 1796310000
        assert_eq!(
            parse_time("2026-12-03T15:00:00Z"),
            Ok(1_796_310_000_000_000_000)
        );
        assert_eq!(
            parse_time("2026-12-03T16:00:00.5+01:00"),
            Ok(1_796_310_000_500_000_000)
        );
        assert_eq!(
            parse_time("2026-12-03T14:30:00-00:30"),
            Ok(1_796_310_000_000_000_000)
        );
        assert_eq!(
            parse_time("2024-02-29T00:00:00Z"),
            Ok(1_709_164_800_000_000_000)
        );
        assert_eq!(parse_time("1796310000"), Ok(1_796_310_000_000_000_000));
        assert_eq!(parse_time("1796310000.25"), Ok(1_796_310_000_250_000_000));
        for bad in [
            "",
            "soon",
            "2026-12-03",
            "2026-12-03T15:00:00",
            "2026-13-03T15:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-12-03T15:00:00+1",
            "1.2.3",
            "1969-12-31T23:59:59Z",
        ] {
            let err = parse_time(bad).unwrap_err();
            assert!(err.contains("RFC 3339"), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_the_forms_people_type() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_interval("100ms"), Ok(Duration::from_millis(100)));
        assert!(parse_interval("1ms").is_err());
    }

    #[test]
    fn ticks_stay_on_the_grid_and_skip_missed_ones() {
        let start = std::time::Instant::now();
        let s = Duration::from_secs(1);
        assert_eq!(following_tick(start, s, start), start + s);
        assert_eq!(
            following_tick(start, s, start + Duration::from_millis(300)),
            start + s
        );
        assert_eq!(
            following_tick(start, s, start + Duration::from_millis(3500)),
            start + 4 * s
        );
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in ["", "30", "s", "5x", "ms5", "1..2s", "-1s"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
    }

    #[test]
    fn formats_latencies() {
        assert_eq!(format_ns(812.0), "812ns");
        assert_eq!(format_ns(1_843_000.0), "1.84ms");
        assert_eq!(format_ns(25_300_000.0), "25.3ms");
        assert_eq!(format_ns(2_500_000_000.0), "2.50s");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h2m3s");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(percent(0.0), "0.00%");
        assert_eq!(percent(0.00005), "0.005%");
        assert_eq!(percent(0.0125), "1.25%");
        assert_eq!(rate(1234.4), "1234/s");
        assert_eq!(rate(12.54), "12.5/s");
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(4300.0), "4,300");
        assert_eq!(thousands(-1234567.0), "-1,234,567");
    }

    #[test]
    fn columns_align_multibyte_units() {
        let rows = vec![
            vec!["a".to_string(), "812µs".to_string()],
            vec!["long name".to_string(), "1.84ms".to_string()],
        ];
        assert_eq!(
            columns(&rows, &[Align::Left, Align::Right], "  "),
            "  a           812µs\n  long name  1.84ms\n"
        );
    }

    #[test]
    fn sizes_read_and_print() {
        assert_eq!(parse_bytes("0"), Ok(0.0));
        assert_eq!(parse_bytes("500MB"), Ok(500e6));
        assert_eq!(parse_bytes("1.5 GB"), Ok(1.5e9));
        assert_eq!(parse_bytes("2MiB"), Ok(2.0 * 1024.0 * 1024.0));
        assert_eq!(parse_bytes("10mb"), Ok(10e6));
        assert_eq!(parse_bytes("512"), Ok(512.0));
        for bad in ["", "MB", "5XB", "-1MB", "1e3MB"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
        assert_eq!(format_bytes(812.0), "812B");
        assert_eq!(format_bytes(31_457_280.0), "31.5MB");
        assert_eq!(format_bytes(-2_500_000.0), "-2.50MB");
    }
}
