use crate::common::{HTTPVersion, Header, StatusCode};
use httpdate::HttpDate;
use std::sync::mpsc::Receiver;

use std::cell::RefCell;
use std::io::{self, Cursor, Read};

use std::fs::File;

use std::str::FromStr;
use std::time::SystemTime;

/// Object representing an HTTP response whose purpose is to be given to a `Request`.
///
/// token-server fork: `Request::respond` reads the whole body and writes the
/// answer into one buffer, with a `Content-Length`, which the connection's own
/// thread then sends: answers are meant to be small. There are no chunked
/// answers (and no `with_chunked_threshold`).
///
/// Some headers cannot be changed. Trying to define the value
/// of one of these will have no effect:
///
///  - `Connection`
///  - `Trailer`
///  - `Transfer-Encoding`
///  - `Upgrade`
///
/// Some headers have special behaviors:
///
///  - `Content-Encoding`: If you define this header, the library
///    will assume that the data from the `Read` object has the specified encoding
///    and will just pass-through.
///
///  - `Content-Length`: The length of the data should be set manually
///    using the `Reponse` object's API. Attempting to set the value of this
///    header will be equivalent to modifying the size of the data but the header
///    itself may not be present in the final result.
///
///  - `Content-Type`: You may only set this header to one value at a time. If you
///    try to set it more than once, the existing value will be overwritten. This
///    behavior differs from the default for most headers, which is to allow them to
///    be set multiple times in the same response.
///
pub struct Response<R> {
    reader: R,
    status_code: StatusCode,
    headers: Vec<Header>,
    data_length: Option<usize>,
}

/// A `Response` without a template parameter.
pub type ResponseBox = Response<Box<dyn Read + Send>>;

/// Appends `Date: <now>\r\n`. The date is formatted once a second (it has
/// no finer unit), not once an answer.
fn push_date_header(answer: &mut Vec<u8>) {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    DATE.with(|date| {
        let mut date = date.borrow_mut();
        if date.0 != second {
            *date = (second, HttpDate::from(now).to_string());
        }
        answer.extend_from_slice(b"Date: ");
        answer.extend_from_slice(date.1.as_bytes());
        answer.extend_from_slice(b"\r\n");
    });
}

/// Appends `number` in decimal.
fn push_decimal(answer: &mut Vec<u8>, number: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = number;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    answer.extend_from_slice(&digits[start..]);
}

impl<R> Response<R>
where
    R: Read,
{
    /// Creates a new Response object.
    ///
    /// The `additional_headers` argument is a receiver that
    ///  may provide headers even after the response has been sent.
    ///
    /// All the other arguments are straight-forward.
    pub fn new(
        status_code: StatusCode,
        headers: Vec<Header>,
        data: R,
        data_length: Option<usize>,
        additional_headers: Option<Receiver<Header>>,
    ) -> Response<R> {
        let mut response = Response {
            reader: data,
            status_code,
            headers: Vec::with_capacity(16),
            data_length,
        };

        for h in headers {
            response.add_header(h)
        }

        // dummy implementation
        if let Some(additional_headers) = additional_headers {
            for h in additional_headers.iter() {
                response.add_header(h)
            }
        }

        response
    }

    /// Convert the response into the underlying `Read` type.
    ///
    /// This is mainly useful for testing as it must consume the `Response`.
    pub fn into_reader(self) -> R {
        self.reader
    }

    /// Adds a header to the list.
    /// Does all the checks.
    pub fn add_header<H>(&mut self, header: H)
    where
        H: Into<Header>,
    {
        let header = header.into();

        // ignoring forbidden headers
        if header.field.equiv("Connection")
            || header.field.equiv("Trailer")
            || header.field.equiv("Transfer-Encoding")
            || header.field.equiv("Upgrade")
        {
            return;
        }

        // if the header is Content-Length, setting the data length
        if header.field.equiv("Content-Length") {
            if let Ok(val) = usize::from_str(header.value.as_str()) {
                self.data_length = Some(val)
            }

            return;
        // if the header is Content-Type and it's already set, overwrite it
        } else if header.field.equiv("Content-Type") {
            if let Some(content_type_header) = self
                .headers
                .iter_mut()
                .find(|h| h.field.equiv("Content-Type"))
            {
                content_type_header.value = header.value;
                return;
            }
        }

        self.headers.push(header);
    }

    /// Returns the same request, but with an additional header.
    ///
    /// Some headers cannot be modified and some other have a
    ///  special behavior. See the documentation above.
    #[inline]
    pub fn with_header<H>(mut self, header: H) -> Response<R>
    where
        H: Into<Header>,
    {
        self.add_header(header.into());
        self
    }

    /// Returns the same request, but with a different status code.
    #[inline]
    pub fn with_status_code<S>(mut self, code: S) -> Response<R>
    where
        S: Into<StatusCode>,
    {
        self.status_code = code.into();
        self
    }

    /// Returns the same request, but with different data.
    pub fn with_data<S>(self, reader: S, data_length: Option<usize>) -> Response<S>
    where
        S: Read,
    {
        Response {
            reader,
            headers: self.headers,
            status_code: self.status_code,
            data_length,
        }
    }

    /// token-server fork: the whole answer, head and body, in one buffer, as
    /// the connection's thread will send it. `head_only` (an answer to HEAD)
    /// leaves the body out but keeps its `Content-Length`; `closes` adds
    /// `Connection: close`. An error reading the body is returned as it is.
    pub(crate) fn serialize(
        mut self,
        http_version: &HTTPVersion,
        head_only: bool,
        closes: bool,
    ) -> io::Result<Vec<u8>> {
        // Status codes 1xx, 204 and 304 have no body (RFC 9110 6.4.1).
        let has_body = !matches!(self.status_code.0, 100..=199 | 204 | 304);
        let mut body = Vec::new();
        let length = match self.data_length {
            Some(length) if head_only => length,
            Some(length) => {
                (&mut self.reader)
                    .take(length as u64)
                    .read_to_end(&mut body)?;
                body.len()
            }
            None => {
                self.reader.read_to_end(&mut body)?;
                body.len()
            }
        };

        // Written byte by byte rather than through `format!`: this runs for
        // every answer.
        let mut answer = Vec::with_capacity(256 + body.len());
        // An HTTP/1.0 client gets an HTTP/1.0 answer; everyone else 1.1.
        let http_1_0 = *http_version == HTTPVersion(1, 0);
        answer.extend_from_slice(if http_1_0 { b"HTTP/1.0 " } else { b"HTTP/1.1 " });
        push_decimal(&mut answer, usize::from(self.status_code.0));
        answer.push(b' ');
        answer.extend_from_slice(self.status_code.default_reason_phrase().as_bytes());
        answer.extend_from_slice(b"\r\n");
        if !self.headers.iter().any(|h| h.field.equiv("Server")) {
            answer.extend_from_slice(b"Server: tiny-http (Rust)\r\n");
        }
        if !self.headers.iter().any(|h| h.field.equiv("Date")) {
            push_date_header(&mut answer);
        }
        for header in &self.headers {
            answer.extend_from_slice(header.field.as_str().as_bytes());
            answer.extend_from_slice(b": ");
            answer.extend_from_slice(header.value.as_bytes());
            answer.extend_from_slice(b"\r\n");
        }
        if has_body {
            answer.extend_from_slice(b"Content-Length: ");
            push_decimal(&mut answer, length);
            answer.extend_from_slice(b"\r\n");
        }
        if closes {
            answer.extend_from_slice(b"Connection: close\r\n");
        } else if http_1_0 {
            answer.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        answer.extend_from_slice(b"\r\n");
        if has_body && !head_only {
            answer.extend_from_slice(&body);
        }
        Ok(answer)
    }

    /// Retrieves the current value of the `Response` status code
    pub fn status_code(&self) -> StatusCode {
        self.status_code
    }

    /// Retrieves the current value of the `Response` data length
    pub fn data_length(&self) -> Option<usize> {
        self.data_length
    }

    /// Retrieves the current list of `Response` headers
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }
}

impl<R> Response<R>
where
    R: Read + Send + 'static,
{
    /// Turns this response into a `Response<Box<Read + Send>>`.
    pub fn boxed(self) -> ResponseBox {
        Response {
            reader: Box::new(self.reader) as Box<dyn Read + Send>,
            status_code: self.status_code,
            headers: self.headers,
            data_length: self.data_length,
        }
    }
}

impl Response<File> {
    /// Builds a new `Response` from a `File`.
    ///
    /// The `Content-Type` will **not** be automatically detected,
    ///  you must set it yourself.
    pub fn from_file(file: File) -> Response<File> {
        let file_size = file.metadata().ok().map(|v| v.len() as usize);

        Response::new(
            StatusCode(200),
            Vec::with_capacity(0),
            file,
            file_size,
            None,
        )
    }
}

impl Response<Cursor<Vec<u8>>> {
    pub fn from_data<D>(data: D) -> Response<Cursor<Vec<u8>>>
    where
        D: Into<Vec<u8>>,
    {
        let data = data.into();
        let data_len = data.len();

        Response::new(
            StatusCode(200),
            Vec::with_capacity(0),
            Cursor::new(data),
            Some(data_len),
            None,
        )
    }

    pub fn from_string<S>(data: S) -> Response<Cursor<Vec<u8>>>
    where
        S: Into<String>,
    {
        let data = data.into();
        let data_len = data.len();

        Response::new(
            StatusCode(200),
            vec![
                Header::from_bytes(&b"Content-Type"[..], &b"text/plain; charset=UTF-8"[..])
                    .expect("a valid header"),
            ],
            Cursor::new(data.into_bytes()),
            Some(data_len),
            None,
        )
    }
}

impl Response<io::Empty> {
    /// Builds an empty `Response` with the given status code.
    pub fn empty<S>(status_code: S) -> Response<io::Empty>
    where
        S: Into<StatusCode>,
    {
        Response::new(
            status_code.into(),
            Vec::with_capacity(0),
            io::empty(),
            Some(0),
            None,
        )
    }

    /// DEPRECATED. Use `empty` instead.
    pub fn new_empty(status_code: StatusCode) -> Response<io::Empty> {
        Response::empty(status_code)
    }
}

impl Clone for Response<io::Empty> {
    fn clone(&self) -> Response<io::Empty> {
        Response {
            reader: io::empty(),
            status_code: self.status_code,
            headers: self.headers.clone(),
            data_length: self.data_length,
        }
    }
}
