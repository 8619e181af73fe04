//! Names as both daemons check and quote them.

/// How much of a user's input an error message or event quotes.
const SHOWN_CHARS: usize = 64;

/// `input` as messages quote it: in quotes, escaped, and cut to 64
/// characters ("…" says it was cut), so that a 10 KB name does not make a
/// 10 KB error or event.
pub fn shown(input: &str) -> String {
    match input.char_indices().nth(SHOWN_CHARS) {
        None => format!("{input:?}"),
        Some((cut, _)) => format!("{:?}…", &input[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_quotes_and_cuts_long_input() {
        assert_eq!(shown("café"), "\"café\"");
        assert_eq!(shown("a\u{0}b"), "\"a\\0b\"");
        let long = "é".repeat(10_000);
        let s = shown(&long);
        assert!(s.ends_with('…') && s.chars().count() == 64 + 3, "{s}");
    }
}
