//! token-server fork: a request's target and header fields, kept as the
//! client sent them, in order. The target, then every name and value, live
//! in one `String`, and each field is three offsets into it, so that a head
//! costs two allocations however many fields it has (upstream allocated the
//! target and two strings a field).

/// The target and header fields of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Headers {
    /// The target, then the fields.
    text: String,
    target_end: usize,
    fields: Vec<Field>,
}

/// `text[start..name_end]` is the name, `text[name_end..value_end]` the value.
#[derive(Debug, Clone, Copy)]
struct Field {
    start: usize,
    name_end: usize,
    value_end: usize,
}

impl Headers {
    /// A request's `target`, and room for `fields` fields of `bytes` bytes in
    /// all.
    pub(crate) fn new(target: &str, bytes: usize, fields: usize) -> Headers {
        let mut text = String::with_capacity(target.len() + bytes);
        text.push_str(target);
        Headers {
            text,
            target_end: target.len(),
            fields: Vec::with_capacity(fields),
        }
    }

    /// The target: path and query.
    pub(crate) fn target(&self) -> &str {
        &self.text[..self.target_end]
    }

    /// Appends a field as it came off the wire: the value's bytes 0x80-0xFF
    /// (obs-text, RFC 9110 5.5) are read as the ISO-8859-1 characters they
    /// historically were.
    pub(crate) fn push_received(&mut self, name: &str, value: &[u8]) {
        let start = self.text.len();
        self.text.push_str(name);
        push_latin1(&mut self.text, value);
        self.record(start, start + name.len());
    }

    /// Appends a field given as text.
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        self.text.push_str(value);
        self.record(start, start + name.len());
    }

    /// Records the field whose name starts at `start` and ends at `name_end`,
    /// and whose value ends the text.
    fn record(&mut self, start: usize, name_end: usize) {
        self.fields.push(Field {
            start,
            name_end,
            value_end: self.text.len(),
        });
    }

    /// Every field, as (name, value), in the order sent.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields.iter().map(move |field| {
            let name = &self.text[field.start..field.name_end];
            let value = &self.text[field.name_end..field.value_end];
            (name, value)
        })
    }

    /// The values of every field named `name` (in any case).
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter()
            .filter(move |(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The value of the first field named `name` (in any case).
    pub(crate) fn first(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }
}

/// Appends `bytes`, ASCII as it is (the usual case, copied at once) and each
/// byte 0x80-0xFF as the ISO-8859-1 character of that number.
fn push_latin1(text: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(ascii) if ascii.is_ascii() => text.push_str(ascii),
        _ => text.extend(bytes.iter().map(|&byte| char::from(byte))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_back_in_order_and_by_name_in_any_case() {
        let mut headers = Headers::new("/index?a=b", 0, 0);
        headers.push("Host", "x");
        headers.push_received("Authorization", b"Basic a");
        headers.push("authorization", "Bearer b");
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            [
                ("Host", "x"),
                ("Authorization", "Basic a"),
                ("authorization", "Bearer b")
            ]
        );
        assert_eq!(
            headers.all("AUTHORIZATION").collect::<Vec<_>>(),
            ["Basic a", "Bearer b"]
        );
        assert_eq!(headers.first("host"), Some("x"));
        assert_eq!(headers.target(), "/index?a=b");
        assert_eq!(headers.first("Cookie"), None);
        assert_eq!(headers.iter().count(), 3);
    }

    #[test]
    fn obs_text_is_read_as_latin1() {
        let mut headers = Headers::default();
        headers.push_received("X-Name", b"Jos\xe9\t!");
        headers.push("X-Text", "Jos\u{e9}");
        assert_eq!(headers.first("X-Name"), Some("Jos\u{e9}\t!"));
        assert_eq!(headers.first("X-Text"), Some("Jos\u{e9}"));
    }
}
