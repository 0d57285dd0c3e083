//! Query texts fit to print: literals replaced (`--redact`) and cut short.
//!
//! Query texts from pg_stat_activity carry whatever the application put in
//! them, e-mail addresses and password hashes included, and they may already
//! be cut by the server (track_activity_query_size), so an unterminated
//! literal is redacted up to the end.

/// `query` with every string and number literal replaced by `?`.
///
/// Handles `'…'` (with `''`), `E'…'` (with backslash escapes), `B'…'`,
/// `X'…'`, `U&'…'`, `N'…'` and `$tag$…$tag$` strings, and integers, decimals,
/// exponents and hex/octal/binary numbers. Identifiers (also `"quoted"` ones),
/// `$1` parameters and comments are kept.
pub fn redact(query: &str) -> String {
    let chars: Vec<char> = query.chars().collect();
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                i = skip_string(&chars, i + 1, false);
                out.push('?');
            }
            '"' => {
                let end = skip_quoted_identifier(&chars, i + 1);
                out.extend(&chars[i..end]);
                i = end;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let end = skip_block_comment(&chars, i + 2);
                out.extend(&chars[i..end]);
                i = end;
            }
            '$' => {
                if let Some(tag_end) = dollar_tag(&chars, i) {
                    let tag: Vec<char> = chars[i..=tag_end].to_vec();
                    i = find_seq(&chars, tag_end + 1, &tag).map_or(chars.len(), |p| p + tag.len());
                    out.push('?');
                } else {
                    // `$1` parameters: the digits belong to the parameter.
                    out.push('$');
                    i += 1;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        out.push(chars[i]);
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit() || (c == '.' && next_is_digit(&chars, i)) => {
                i = skip_number(&chars, i);
                out.push('?');
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'\'') {
                    let lower = word.to_ascii_lowercase();
                    if matches!(lower.as_str(), "e" | "b" | "x" | "n") {
                        i = skip_string(&chars, i + 1, lower == "e");
                        out.push('?');
                        continue;
                    }
                }
                if word.eq_ignore_ascii_case("u")
                    && chars.get(i) == Some(&'&')
                    && chars.get(i + 1) == Some(&'\'')
                {
                    i = skip_string(&chars, i + 2, false);
                    out.push('?');
                    continue;
                }
                out.push_str(&word);
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `text` cut to at most `max` characters, with `…` marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..end])
        }
    }
}

/// Index after the closing quote of a string whose body starts at `i`.
fn skip_string(chars: &[char], mut i: usize, backslash_escapes: bool) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' if backslash_escapes => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
            '\'' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

fn skip_quoted_identifier(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        if chars[i] == '"' {
            if chars.get(i + 1) == Some(&'"') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    chars.len()
}

/// Block comments nest in PostgreSQL.
fn skip_block_comment(chars: &[char], mut i: usize) -> usize {
    let mut depth = 1;
    while i < chars.len() {
        if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    chars.len()
}

/// If a dollar-quote opening tag (`$$` or `$tag$`) starts at `i`, the index of its closing `$`.
fn dollar_tag(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
        j += 1;
    }
    (chars.get(j) == Some(&'$')).then_some(j)
}

fn find_seq(chars: &[char], from: usize, seq: &[char]) -> Option<usize> {
    if seq.is_empty() || from > chars.len() {
        return None;
    }
    chars[from..]
        .windows(seq.len())
        .position(|w| w == seq)
        .map(|p| from + p)
}

fn skip_number(chars: &[char], mut i: usize) -> usize {
    let radix_prefix = chars[i] == '0'
        && chars
            .get(i + 1)
            .is_some_and(|c| matches!(c, 'x' | 'X' | 'o' | 'O' | 'b' | 'B'));
    if radix_prefix {
        i += 2;
        while i < chars.len() && (chars[i].is_ascii_hexdigit() || chars[i] == '_') {
            i += 1;
        }
        return i;
    }
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
        i += 1;
    }
    if chars.get(i) == Some(&'.') && chars.get(i + 1) != Some(&'.') {
        i += 1;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
        if chars.get(i + 1 + sign).is_some_and(|c| c.is_ascii_digit()) {
            i += 1 + sign;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

fn next_is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_numbers_become_placeholders() {
        assert_eq!(
            redact("SELECT * FROM users WHERE email = 'a@b.com' AND id = 42"),
            "SELECT * FROM users WHERE email = ? AND id = ?"
        );
        assert_eq!(
            redact("UPDATE t SET x = 1.5e-3, y = -7, z = .5 WHERE n = 'it''s'"),
            "UPDATE t SET x = ?, y = -?, z = ? WHERE n = ?"
        );
        assert_eq!(redact("SELECT 0xFF, 1_000"), "SELECT ?, ?");
    }

    #[test]
    fn identifiers_parameters_and_comments_stay() {
        assert_eq!(
            redact(r#"SELECT t1.col2, "weird ""name"" 9" FROM t1 WHERE a = $1 AND b = $12"#),
            r#"SELECT t1.col2, "weird ""name"" 9" FROM t1 WHERE a = $1 AND b = $12"#
        );
        assert_eq!(
            redact("SELECT 1 -- id 7\n/* outer /* 'x' */ 3 */ FROM t"),
            "SELECT ? -- id 7\n/* outer /* 'x' */ 3 */ FROM t"
        );
    }

    #[test]
    fn prefixed_and_dollar_quoted_strings() {
        assert_eq!(
            redact(r"SELECT E'a\'b', B'0101', X'ff', U&'d\0061t', N'x'"),
            "SELECT ?, ?, ?, ?, ?"
        );
        assert_eq!(
            redact("SELECT $$it's $1$$, $fn$ body 'q' $fn$ FROM t"),
            "SELECT ?, ? FROM t"
        );
        assert_eq!(redact("SELECT e.x FROM emp e"), "SELECT e.x FROM emp e");
    }

    #[test]
    fn cut_off_literals_are_redacted_to_the_end() {
        assert_eq!(
            redact("INSERT INTO u VALUES ('secret pa"),
            "INSERT INTO u VALUES (?"
        );
        assert_eq!(redact("SELECT $x$ never closed"), "SELECT ?");
        assert_eq!(redact("SELECT /* open"), "SELECT /* open");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("short", 5), "short");
        assert_eq!(truncate("short", 100), "short");
        assert_eq!(truncate("ab", 1), "…");
    }
}
