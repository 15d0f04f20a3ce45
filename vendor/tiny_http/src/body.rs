//! token-server fork: reading a request's body on the connection's own thread,
//! up to a limit, and strictly: a chunked body (RFC 9112 7.1) has hex chunk
//! sizes that fit in 64 bits, well-formed extensions, CRLF after each chunk,
//! and trailer fields that are read, checked and dropped.
//!
//! The body is read from a [`Source`]: a connection's buffer and socket, or,
//! for `TestRequest`, bytes in memory, so both go through this same code.

use std::convert::TryFrom;

use crate::head::{is_tchar, Framing, MAX_HEAD, MAX_HEADERS};
use crate::refusal::{ReadError, Refusal};

/// Where a body's bytes come from.
pub(crate) trait Source {
    /// The bytes received and not used yet.
    fn buffered(&self) -> &[u8];
    /// Marks the first `count` buffered bytes as used.
    fn consume(&mut self, count: usize);
    /// Receives more bytes into the buffer and says how many: 0 at the end of
    /// the input.
    fn fill(&mut self) -> Result<usize, ReadError>;
}

/// A body as read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Body {
    pub bytes: Vec<u8>,
    /// False when the body is larger than the limit: then it was not read (a
    /// `Content-Length` body), or only its first `limit + 1` bytes were (a
    /// chunked one), and the rest is left where it is.
    pub complete: bool,
}

/// Reads the body `framing` announces, at most `limit` bytes of it.
pub(crate) fn read(
    source: &mut impl Source,
    framing: Framing,
    limit: usize,
) -> Result<Body, ReadError> {
    match framing {
        Framing::Empty => Ok(Body {
            bytes: Vec::new(),
            complete: true,
        }),
        Framing::Length(length) => match usize::try_from(length) {
            Ok(length) if length <= limit => {
                let mut bytes = Vec::with_capacity(length);
                read_exact(source, length, &mut bytes)?;
                Ok(Body {
                    bytes,
                    complete: true,
                })
            }
            // Too large: not a byte of it is read.
            _ => Ok(Body {
                bytes: Vec::new(),
                complete: false,
            }),
        },
        Framing::Chunked => read_chunked(source, limit),
    }
}

fn read_chunked(source: &mut impl Source, limit: usize) -> Result<Body, ReadError> {
    let mut bytes = Vec::new();
    // Chunk extensions and trailer fields share one budget, the head's limit.
    let mut metadata_budget = MAX_HEAD;
    loop {
        let line = read_line(source, metadata_budget)?;
        let (size, extensions) = parse_chunk_line(&line)?;
        metadata_budget -= extensions;
        if size == 0 {
            read_trailers(source, metadata_budget)?;
            return Ok(Body {
                bytes,
                complete: true,
            });
        }
        // Read no further than one byte past the limit: enough to know the
        // body is too large.
        let wanted = limit + 1 - bytes.len();
        if size >= wanted as u64 {
            read_exact(source, wanted, &mut bytes)?;
            return Ok(Body {
                bytes,
                complete: false,
            });
        }
        read_exact(source, size as usize, &mut bytes)?;
        let mut line_end = Vec::with_capacity(2);
        read_exact(source, 2, &mut line_end)?;
        if line_end != b"\r\n" {
            return Err(Refusal::new(400, "chunk data not followed by CRLF").into());
        }
    }
}

/// `chunk-size [ chunk-ext ]` (RFC 9112 7.1.1): the size, and how many bytes
/// of extensions follow it.
fn parse_chunk_line(line: &[u8]) -> Result<(u64, usize), ReadError> {
    let bad = |reason| ReadError::from(Refusal::new(400, reason));
    let digits = line
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit())
        .count();
    if digits == 0 {
        return Err(bad("chunk size not hex"));
    }
    let mut size: u64 = 0;
    for &digit in &line[..digits] {
        let value = char::from(digit).to_digit(16).map_or(0, u64::from);
        size = size
            .checked_mul(16)
            .and_then(|size| size.checked_add(value))
            .ok_or(bad("chunk size too large"))?;
    }
    let extensions = &line[digits..];
    if !valid_extensions(extensions) {
        return Err(bad("bad chunk extension"));
    }
    Ok((size, extensions.len()))
}

/// `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )` (RFC
/// 9112 7.1.1): `;name=value;flag` is fine, and so is white space around `;`
/// and `=` (`; name = value`); `;` alone, or white space with no `;` after
/// it, is not.
fn valid_extensions(mut rest: &[u8]) -> bool {
    loop {
        if rest.is_empty() {
            return true;
        }
        let Some(after) = skip_white_space(rest).strip_prefix(b";") else {
            return false;
        };
        let after = skip_white_space(after);
        let name = after.iter().take_while(|&&byte| is_tchar(byte)).count();
        if name == 0 {
            return false;
        }
        rest = &after[name..];
        if let Some(value) = skip_white_space(rest).strip_prefix(b"=") {
            let value = skip_white_space(value);
            let Some(length) = token_or_quoted_string(value) else {
                return false;
            };
            rest = &value[length..];
        }
    }
}

/// `bytes` without the spaces and tabs it starts with (BWS, RFC 9110 5.6.3).
fn skip_white_space(bytes: &[u8]) -> &[u8] {
    let spaces = bytes
        .iter()
        .take_while(|&&byte| byte == b' ' || byte == b'\t')
        .count();
    &bytes[spaces..]
}

/// The length of the token or quoted string that starts `bytes`.
fn token_or_quoted_string(bytes: &[u8]) -> Option<usize> {
    if bytes.first() != Some(&b'"') {
        let length = bytes.iter().take_while(|&&byte| is_tchar(byte)).count();
        return (length > 0).then_some(length);
    }
    let mut index = 1;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'"' => return Some(index + 1),
            b'\\' => index += 2,
            b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff => index += 1,
            _ => return None,
        }
    }
    None
}

/// The trailer section: field lines up to an empty line, checked like header
/// fields, within what is left of the budget, then dropped.
fn read_trailers(source: &mut impl Source, budget: usize) -> Result<(), ReadError> {
    let mut section = Vec::new();
    loop {
        let line = read_line(source, budget.saturating_sub(section.len()))?;
        if line.is_empty() {
            break;
        }
        section.extend_from_slice(&line);
        section.extend_from_slice(b"\r\n");
    }
    section.extend_from_slice(b"\r\n");
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(&section, &mut fields) {
        Ok(httparse::Status::Complete(_)) => Ok(()),
        Err(httparse::Error::TooManyHeaders) => {
            Err(Refusal::new(431, "too many trailer fields").into())
        }
        _ => Err(Refusal::new(400, "bad trailer field").into()),
    }
}

/// One line, without its CRLF; longer than `longest` is refused (431), and so
/// is a bare CR or LF (400).
fn read_line(source: &mut impl Source, longest: usize) -> Result<Vec<u8>, ReadError> {
    loop {
        let buffered = source.buffered();
        if let Some(end) = buffered.iter().position(|&byte| byte == b'\n') {
            if end == 0 || buffered[end - 1] != b'\r' {
                return Err(Refusal::new(400, "bare LF in a chunked body").into());
            }
            let line = &buffered[..end - 1];
            if line.contains(&b'\r') {
                return Err(Refusal::new(400, "bare CR in a chunked body").into());
            }
            if line.len() > longest {
                return Err(Refusal::new(431, "chunk extensions or trailers too large").into());
            }
            let line = line.to_vec();
            source.consume(end + 1);
            return Ok(line);
        }
        if buffered.len() > longest + 1 {
            return Err(Refusal::new(431, "chunk extensions or trailers too large").into());
        }
        if source.fill()? == 0 {
            return Err(ReadError::Closed);
        }
    }
}

/// Appends exactly `count` bytes of the source to `bytes`.
fn read_exact(
    source: &mut impl Source,
    count: usize,
    bytes: &mut Vec<u8>,
) -> Result<(), ReadError> {
    let mut missing = count;
    while missing > 0 {
        if source.buffered().is_empty() && source.fill()? == 0 {
            return Err(ReadError::Closed);
        }
        let available = source.buffered();
        let taken = missing.min(available.len());
        bytes.extend_from_slice(&available[..taken]);
        source.consume(taken);
        missing -= taken;
    }
    Ok(())
}

/// Bytes in memory as a [`Source`]: all there at once, then the end.
pub(crate) struct Memory<'a> {
    bytes: &'a [u8],
}

impl<'a> Memory<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Memory<'a> {
        Memory { bytes }
    }
}

impl Source for Memory<'_> {
    fn buffered(&self) -> &[u8] {
        self.bytes
    }

    fn consume(&mut self, count: usize) {
        self.bytes = &self.bytes[count.min(self.bytes.len())..];
    }

    fn fill(&mut self) -> Result<usize, ReadError> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(raw: &[u8], limit: usize) -> Result<Body, ReadError> {
        read(&mut Memory::new(raw), Framing::Chunked, limit)
    }

    fn body(bytes: &[u8], complete: bool) -> Result<Body, ReadError> {
        Ok(Body {
            bytes: bytes.to_vec(),
            complete,
        })
    }

    #[test]
    fn content_length_body() {
        let mut source = Memory::new(b"helloGET");
        assert_eq!(
            read(&mut source, Framing::Length(5), 10),
            body(b"hello", true)
        );
        assert_eq!(source.buffered(), b"GET");
    }

    #[test]
    fn content_length_over_the_limit_is_not_read() {
        let mut source = Memory::new(b"hello");
        assert_eq!(read(&mut source, Framing::Length(5), 4), body(b"", false));
        assert_eq!(source.buffered(), b"hello");
        let mut source = Memory::new(b"");
        assert_eq!(
            read(&mut source, Framing::Length(u64::MAX), 4),
            body(b"", false)
        );
    }

    #[test]
    fn a_short_body_means_the_client_left() {
        let mut source = Memory::new(b"hel");
        assert_eq!(
            read(&mut source, Framing::Length(5), 10),
            Err(ReadError::Closed)
        );
    }

    #[test]
    fn chunked_body() {
        let mut source = Memory::new(b"5\r\nhello\r\n1;a=b;c=\"d e\";f\r\n!\r\n0\r\n\r\nNEXT");
        assert_eq!(
            read(&mut source, Framing::Chunked, 100),
            body(b"hello!", true)
        );
        assert_eq!(source.buffered(), b"NEXT");
    }

    #[test]
    fn chunked_body_with_trailers() {
        let raw = b"2\r\nhi\r\n0\r\nX-Sum: 1\r\nX-Other: a b\r\n\r\n";
        assert_eq!(chunked(raw, 100), body(b"hi", true));
    }

    #[test]
    fn chunked_body_over_the_limit_reads_one_byte_more() {
        let mut source = Memory::new(b"3\r\nabc\r\n3\r\ndefREST");
        assert_eq!(
            read(&mut source, Framing::Chunked, 4),
            body(b"abcde", false)
        );
        assert_eq!(source.buffered(), b"fREST");
    }

    /// The status a result was refused with, if it was.
    fn refused_with(result: &Result<Body, ReadError>) -> Option<u16> {
        match result {
            Err(ReadError::Refused(refusal)) => refusal.status,
            _ => None,
        }
    }

    #[test]
    fn chunk_sizes_are_hex_and_fit() {
        assert_eq!(
            chunked(b"00000000000000000000002\r\nhi\r\n0\r\n\r\n", 100),
            body(b"hi", true)
        );
        for bad in [
            &b"zz\r\n"[..],
            b"-1\r\n",
            b"\r\n",
            b"0x2\r\nhi\r\n",
            b"10000000000000000\r\n",
        ] {
            let result = chunked(bad, 100);
            assert_eq!(refused_with(&result), Some(400), "{:?}: {:?}", bad, result);
        }
    }

    #[test]
    fn white_space_around_extensions_is_allowed() {
        // RFC 9112 7.1.1: BWS before ";" and around "=".
        for good in [
            &b"2 ;a\r\nhi\r\n0\r\n\r\n"[..],
            b"2\t; a = b\r\nhi\r\n0\r\n\r\n",
            b"2;a=\"q\" ; b\r\nhi\r\n0\r\n\r\n",
            b"2 ; a=b ;c\r\nhi\r\n0 ; last\r\n\r\n",
        ] {
            assert_eq!(chunked(good, 100), body(b"hi", true), "{:?}", good);
        }
    }

    #[test]
    fn chunk_lines_with_junk_are_refused() {
        for bad in [
            &b"2;\r\nhi\r\n0\r\n\r\n"[..],
            b"2 \r\nhi\r\n0\r\n\r\n",
            b"2 x\r\nhi\r\n0\r\n\r\n",
            b"2; \r\nhi\r\n0\r\n\r\n",
            b"2;a=\r\nhi\r\n0\r\n\r\n",
            b"2;a= \r\nhi\r\n0\r\n\r\n",
            b"2;a=\"b\r\nhi\r\n0\r\n\r\n",
            b"2;a b\r\nhi\r\n0\r\n\r\n",
            b"2\nhi\r\n0\r\n\r\n",
            b"2\r\nhi\n0\r\n\r\n",
            b"2\r\nhiX\r\n0\r\n\r\n",
            b"2\r\nhi\r\n0\r\nBad Name: x\r\n\r\n",
            b"2\r\nhi\r\n0\r\n folded\r\n\r\n",
            b"2\r\nhi\r\n0\r\nA: b\rc\r\n\r\n",
        ] {
            let result = chunked(bad, 100);
            assert_eq!(refused_with(&result), Some(400), "{:?}: {:?}", bad, result);
        }
    }

    #[test]
    fn extensions_and_trailers_share_the_head_limit() {
        let extension = format!(";a={}", "b".repeat(MAX_HEAD));
        let raw = format!("1{extension}\r\nx\r\n0\r\n\r\n");
        assert_eq!(refused_with(&chunked(raw.as_bytes(), 100)), Some(431));
        let trailer = format!("X: {}\r\n", "y".repeat(MAX_HEAD));
        let raw = format!("1\r\nx\r\n0\r\n{trailer}\r\n");
        assert_eq!(refused_with(&chunked(raw.as_bytes(), 100)), Some(431));
    }

    #[test]
    fn a_chunked_body_cut_short_means_the_client_left() {
        assert_eq!(chunked(b"5\r\nhel", 100), Err(ReadError::Closed));
        assert_eq!(chunked(b"5\r\nhello\r\n", 100), Err(ReadError::Closed));
    }
}
