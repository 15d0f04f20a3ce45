//! Which page `/` gives: the `Accept` header (RFC 9110 12.5.1) says whether a
//! client prefers `text/html` to `text/plain`. A browser does (Chromium sends
//! `text/html,...,*/*;q=0.8`); curl's `*/*`, or no `Accept` at all, likes them
//! both the same, and gets the text page.

/// The form of answer a client prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preference {
    Text,
    Html,
    Json,
}

/// What the `Accept` values prefer: JSON when `application/json` weighs more
/// than both `text/plain` and `text/html` (HTTPie, `fetch` asking for it);
/// HTML when `text/html` weighs more than `text/plain` (a browser); else
/// text (curl's `*/*`, no `Accept` at all).
pub(crate) fn preference<'a>(accepts: impl IntoIterator<Item = &'a str>) -> Preference {
    let ranges: Vec<Range> = accepts
        .into_iter()
        .flat_map(|value| value.split(','))
        .filter_map(Range::parse)
        .collect();
    let plain = weight(&ranges, "text", "plain");
    let html = weight(&ranges, "text", "html");
    let json = weight(&ranges, "application", "json");
    if json > plain && json > html {
        Preference::Json
    } else if html > plain {
        Preference::Html
    } else {
        Preference::Text
    }
}

/// One media range of an `Accept` value: `text/html`, `text/*` or `*/*`,
/// with its weight (`q`, 1 when not given).
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    /// Thousandths, as a qvalue has at most three decimals.
    weight: u16,
}

impl<'a> Range<'a> {
    /// `None` for an element that is not a media range, or whose `q` is not
    /// a qvalue: it counts for nothing.
    fn parse(element: &'a str) -> Option<Range<'a>> {
        let mut parts = element.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let mut weight = 1000;
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                weight = qvalue(value.trim())?;
            }
        }
        Some(Range {
            kind: kind.trim(),
            subtype: subtype.trim(),
            weight,
        })
    }

    /// How closely it names `kind/subtype`: 3 exactly, 2 as `kind/*`, 1 as
    /// `*/*`, 0 not at all.
    fn specificity(&self, kind: &str, subtype: &str) -> u8 {
        let same_kind = self.kind.eq_ignore_ascii_case(kind);
        if same_kind && self.subtype.eq_ignore_ascii_case(subtype) {
            3
        } else if same_kind && self.subtype == "*" {
            2
        } else if self.kind == "*" && self.subtype == "*" {
            1
        } else {
            0
        }
    }
}

/// The weight of `kind/subtype`: that of the most specific range naming it
/// (RFC 9110 12.5.1: `text/html;q=0.1, */*` gives HTML 0.1), 0 if none does.
fn weight(ranges: &[Range], kind: &str, subtype: &str) -> u16 {
    ranges
        .iter()
        .map(|range| (range.specificity(kind, subtype), range.weight))
        .filter(|&(specificity, _)| specificity > 0)
        .max_by_key(|&(specificity, _)| specificity)
        .map_or(0, |(_, weight)| weight)
}

/// `0`, `0.5`, `1.000`... in thousandths; `None` for anything else.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
    if decimals.len() > 3 || !decimals.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{decimals:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefers_html<'a>(accepts: impl IntoIterator<Item = &'a str>) -> bool {
        preference(accepts) == Preference::Html
    }

    /// What browsers and command-line clients send to `/`, as of 2026.
    const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
    const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const SAFARI: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn browsers_prefer_html() {
        for accept in [CHROMIUM, FIREFOX, SAFARI] {
            assert!(prefers_html([accept]), "{accept}");
        }
    }

    #[test]
    fn command_line_clients_get_text() {
        // curl, wget, HTTPie and Python's requests send */*; urllib none.
        assert!(!prefers_html(["*/*"]));
        assert!(!prefers_html([]));
        assert!(!prefers_html(["application/json, */*;q=0.5"]));
        assert!(!prefers_html(["text/plain"]));
        assert!(!prefers_html([""]));
    }

    #[test]
    fn weights_decide() {
        assert!(!prefers_html(["text/html;q=0.5, text/plain"]));
        assert!(prefers_html(["text/plain;q=0.5, text/html"]));
        assert!(!prefers_html(["text/html;q=0.5, text/plain;q=0.5"]));
        // The most specific range counts, not the heaviest.
        assert!(!prefers_html(["text/html;q=0.1, */*"]));
        assert!(prefers_html(["text/*, text/plain;q=0.2"]));
        assert!(!prefers_html(["text/html;q=0"]));
    }

    #[test]
    fn case_spaces_and_several_fields() {
        assert!(prefers_html([" Text/HTML ; Q=1 , text/plain ; q=0.9 "]));
        assert!(prefers_html(["text/plain;q=0.3", "text/html"]));
    }

    #[test]
    fn a_bad_element_counts_for_nothing() {
        assert!(!prefers_html(["text/html;q=2, text/plain;q=0.1"]));
        assert!(!prefers_html(["text/html;q=abc"]));
        assert!(!prefers_html(["html, text/plain"]));
        assert!(prefers_html(["text/html;q=0.9, text/plain;q=1.5"]));
    }

    #[test]
    fn qvalues() {
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0.8"), Some(800));
        assert_eq!(qvalue("0.125"), Some(125));
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("1.001"), None);
        assert_eq!(qvalue("0.1234"), None);
        assert_eq!(qvalue("-0"), None);
        assert_eq!(qvalue(".5"), None);
        assert_eq!(qvalue("0.-1"), None);
    }
}
