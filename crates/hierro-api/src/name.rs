//! Names as both daemons check and quote them. A name people give an
//! object (inventory objects, port groups, roles) is stored in Unicode NFC,
//! so "café" typed either way is one name; it has no control, format
//! (invisible: zero-width, bidirectional overrides) or line-separator
//! characters, no surrounding spaces, and at most `MAX_NAME_CHARS`
//! characters.

use unicode_normalization::UnicodeNormalization;

/// The longest name, in characters (vSphere's limit for most objects).
pub const MAX_NAME_CHARS: usize = 80;

/// How much of a user's input an error message or event quotes.
const SHOWN_CHARS: usize = 64;

/// `input` as messages quote it: in quotes, escaped, and cut to 64
/// characters ("…" says it was cut), so that a 10 KB name does not make a
/// 10 KB error or event.
pub fn shown(input: &str) -> String {
    let kept = cut(input);
    if kept.len() < input.len() {
        format!("{kept:?}…")
    } else {
        format!("{input:?}")
    }
}

/// `input` cut to the 64 characters messages and events keep of it.
pub fn cut(input: &str) -> &str {
    match input.char_indices().nth(SHOWN_CHARS) {
        None => input,
        Some((at, _)) => &input[..at],
    }
}

/// `hidden` as a JSON Schema pattern, for the documents: free text holds
/// none of these (the astral format characters, rare, are left out). A
/// field's schema says `pattern = "text"`, and the documents get this
/// (`hierro_http::openapi`).
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$";

/// Characters no name or text may hold: controls, and the invisible ones
/// (Unicode's format characters, Cf; line and paragraph separators).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891
            | 0x08E2 | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064
            | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
            | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
            | 0xE0001 | 0xE0020..=0xE007F)
}

/// `name` as stored (NFC), if it is a valid name for `what`; else why not.
pub fn display_name(what: &str, name: &str) -> Result<String, String> {
    let nfc: String = name.nfc().collect();
    let len = nfc.chars().count();
    if nfc.trim().is_empty() || len > MAX_NAME_CHARS {
        return Err(format!(
            "{what} {} must be 1 to {MAX_NAME_CHARS} characters",
            shown(name)
        ));
    }
    if nfc.trim() != nfc {
        return Err(format!("{what} {} has spaces around it", shown(name)));
    }
    if let Some(c) = nfc.chars().find(|c| hidden(*c)) {
        return Err(format!(
            "{what} {} holds the control or invisible character U+{:04X}",
            shown(name),
            c as u32
        ));
    }
    Ok(nfc)
}

/// Free text (a full name, a description) as stored (NFC): at most `max`
/// characters, none of them control or invisible.
pub fn free_text(what: &str, text: &str, max: usize) -> Result<String, String> {
    let nfc: String = text.nfc().collect();
    if nfc.chars().count() > max {
        return Err(format!("{what} must be at most {max} characters"));
    }
    if let Some(c) = nfc.chars().find(|c| hidden(*c)) {
        return Err(format!(
            "{what} holds the control or invisible character U+{:04X}",
            c as u32
        ));
    }
    Ok(nfc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_pattern_says_what_hidden_does() {
        let class = TEXT_PATTERN
            .strip_prefix("^[^")
            .and_then(|p| p.strip_suffix("]*$"))
            .unwrap();
        let code = |h: &str| u32::from_str_radix(h, 16).unwrap();
        let ranges: Vec<(u32, u32)> = class
            .split("\\u")
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(",")
            .replace("-,", "-")
            .split(',')
            .map(|r| match r.split_once('-') {
                Some((a, b)) => (code(a), code(b)),
                None => (code(r), code(r)),
            })
            .collect();
        for c in (0..=0xFFFFu32).filter_map(char::from_u32) {
            let excluded = ranges.iter().any(|(a, b)| (*a..=*b).contains(&(c as u32)));
            assert_eq!(excluded, hidden(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn names_are_nfc_visible_and_bounded() {
        let nfd = "cafe\u{301}";
        assert_eq!(display_name("name", nfd).unwrap(), "café");
        assert_eq!(display_name("name", "café").unwrap(), "café");
        assert_eq!(
            display_name("name", "Réseau de production 1").unwrap(),
            "Réseau de production 1"
        );
        for bad in [
            "",
            "  ",
            " x",
            "x ",
            "a\0b",
            "a\nb",
            "a\u{200B}b",
            "a\u{202E}b",
            "a\u{2028}b",
        ] {
            assert!(display_name("name", bad).is_err(), "{bad:?}");
        }
        assert!(display_name("name", &"x".repeat(80)).is_ok());
        let e = display_name("name", &"x".repeat(10_000)).unwrap_err();
        assert!(e.len() < 200, "{e}");
        assert_eq!(free_text("full name", "", 256).unwrap(), "");
        assert!(free_text("full name", &"x".repeat(257), 256).is_err());
        assert!(free_text("full name", "a\u{7}", 256).is_err());
    }

    #[test]
    fn shown_quotes_and_cuts_long_input() {
        assert_eq!(shown("café"), "\"café\"");
        assert_eq!(shown("a\u{0}b"), "\"a\\0b\"");
        let long = "é".repeat(10_000);
        let s = shown(&long);
        assert!(s.ends_with('…') && s.chars().count() == 64 + 3, "{s}");
    }
}
