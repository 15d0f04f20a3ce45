//! The page of `/` in a real browser: Debian's Chromium, headless, driven
//! through chromedriver (WebDriver). A whole session on the pages: log in
//! with the form, test the token from the answer page, log out, test again,
//! a wrong password (no login box of the browser's own), an expired token,
//! HTTPS with the certificate trusted once across a restart, and another
//! site's page refused. Each answer is read as a person would see it. `make
//! test` installs Chromium, its driver and certutil
//! (scripts/install-packages.sh), and so does CI: without them this test
//! fails, it does not skip.
//!
//! Each run also leaves a screenshot of the page in Cargo's temporary folder
//! for integration tests (`target/tmp/browser-page.png`): the README's is one.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use testkit::server::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

#[test]
fn the_forms_log_in_test_the_token_and_log_out() {
    let server = Running::start(BINARY, &[]);
    let page = format!("http://{}/", server.address);
    let browser = Browser::start(None);

    browser.open(&page);
    assert_eq!(browser.ready_state(), "complete");
    assert_eq!(browser.title(), "token-server");
    // The inline style applies: the Content-Security-Policy allows it.
    let form = browser.find(r#"form[action="/login"]"#);
    assert_eq!(browser.css_value(&form, "border-top-style"), "solid");
    std::fs::write(screenshot_path(), browser.screenshot()).expect("screenshot");

    // 1. Log in: the form POSTs username and password; the answer is a
    // page with the token and the next steps, filled in.
    browser.type_into(r#"form[action="/login"] input[name="username"]"#, "magigo");
    browser.type_into(r#"form[action="/login"] input[name="password"]"#, "123456");
    browser.click(r#"form[action="/login"] button"#);
    assert_eq!(browser.url(), format!("{page}login"));
    assert_eq!(browser.title(), "Logged in - token-server");
    let token = browser.text_of("code.token");
    let decoded = STANDARD.decode(&token).expect("a base64 token");
    assert!(
        String::from_utf8_lossy(&decoded).starts_with("magigo:"),
        "{token}"
    );

    // 2. Test it, from the answer page: its form holds the token already.
    browser.click(r#"form[action="/test"] button"#);
    assert!(
        browser.url().starts_with(&format!("{page}test?token=")),
        "{}",
        browser.url()
    );
    assert_eq!(browser.title(), "data - token-server");
    assert!(
        browser
            .page_text()
            .contains("data: this is magigo's current token, valid until "),
        "{}",
        browser.page_text()
    );

    // 3. Log out, from that page, and the token stops working.
    browser.click(r#"form[action="/logout"] button"#);
    assert_eq!(browser.title(), "ok - token-server");
    browser.click("a[href='/']");
    assert_eq!(browser.url(), page);
    browser.type_into(r#"form[action="/test"] input[name="token"]"#, &token);
    browser.click(r#"form[action="/test"] button"#);
    assert_eq!(browser.title(), "error - token-server");
    assert!(
        browser.page_text().contains(
            "error: the token is unknown, replaced by a newer login, or revoked by a logout."
        ),
        "{}",
        browser.page_text()
    );

    // 4. A wrong password: a page that says so, and no login box of the
    // browser's own (it would leave the page blank, with an alert pending).
    browser.open(&page);
    browser.type_into(r#"form[action="/login"] input[name="username"]"#, "magigo");
    browser.type_into(r#"form[action="/login"] input[name="password"]"#, "654321");
    browser.click(r#"form[action="/login"] button"#);
    assert!(!browser.has_alert(), "a dialog is pending");
    assert!(
        browser
            .page_text()
            .contains("error: wrong user name or password."),
        "{}",
        browser.page_text()
    );

    let log = server.wait_for_stderr("POST /login 401 ");
    for expected in [
        "GET / 200 ",
        "POST /login 200 ",
        "GET /test?token=*** 200 ",
        "POST /logout 200 ",
        "GET /test?token=*** 401 ",
        "POST /login 401 ",
    ] {
        assert!(log.contains(expected), "no {expected:?} in:\n{log}");
    }
    assert!(
        !log.contains(&token),
        "the token leaked into the log:\n{log}"
    );
    assert!(!log.contains("/favicon.ico 404"), "{log}");
}

/// With `--ttl 2`, the page after a check of an expired token says when it
/// expired.
#[test]
fn an_expired_token_s_page_says_so() {
    let server = Running::start(BINARY, &["--ttl", "2"]);
    let page = format!("http://{}/", server.address);
    let browser = Browser::start(None);
    browser.open(&page);
    browser.type_into(r#"form[action="/login"] input[name="username"]"#, "magigo");
    browser.type_into(r#"form[action="/login"] input[name="password"]"#, "123456");
    browser.click(r#"form[action="/login"] button"#);
    assert_eq!(browser.title(), "Logged in - token-server");
    thread::sleep(Duration::from_secs(3));
    browser.click(r#"form[action="/test"] button"#);
    let text = browser.page_text();
    assert!(text.contains("error: the token expired at "), "{text}");
    assert!(text.contains(" UTC: log in again."), "{text}");
}

/// Over HTTPS, with the self-signed certificate trusted once in an NSS
/// database made here (`certutil`, as Chromium and Firefox read it), across
/// a restart of the server: the pair is used again, so the trust holds.
#[test]
fn over_https_the_certificate_is_trusted_once_across_a_restart() {
    let dir = testkit::tls::TempDir::new();
    let certificate = dir.join("cert.pem");
    let server = Running::start_https(BINARY, &certificate, &[]);
    let home = dir.join("home");
    let nssdb = home.join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    let database = format!("sql:{}", nssdb.display());
    let certutil = |args: &[&str]| {
        let output = Command::new("certutil")
            .args(args)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run certutil ({error}): `make test` installs libnss3-tools")
            });
        assert!(output.status.success(), "certutil {args:?}: {output:?}");
    };
    certutil(&["-N", "-d", &database, "--empty-password"]);
    certutil(&[
        "-A",
        "-d",
        &database,
        "-t",
        "P,,",
        "-n",
        "token-server",
        "-i",
        certificate.to_str().unwrap(),
    ]);
    let browser = Browser::start(Some(&home));
    let page = format!("https://{}/", server.address);
    browser.open(&page);
    assert_eq!(browser.title(), "token-server");
    let port = server
        .address
        .rsplit_once(':')
        .map(|(_, port)| port.to_string())
        .unwrap();
    drop(server);
    let again = Running::start_https(BINARY, &certificate, &["--port", &port]);
    browser.open(&page);
    assert_eq!(browser.title(), "token-server");
    browser.type_into(r#"form[action="/login"] input[name="username"]"#, "magigo");
    browser.type_into(r#"form[action="/login"] input[name="password"]"#, "123456");
    browser.click(r#"form[action="/login"] button"#);
    assert_eq!(browser.title(), "Logged in - token-server");
    drop(again);
}

/// A page of another site (`localhost` is another site than `127.0.0.1`)
/// sends the visitor's browser to the token routes: with `fetch` in
/// `no-cors` mode and with a form it submits itself (login CSRF). Every one
/// is refused 403 before any budget is spent: the visitor's own login, on
/// the server's own page, still works after ten wrong passwords.
#[test]
fn another_site_cannot_use_the_visitor_s_browser() {
    let server = Running::start(BINARY, &[]);
    let port = server
        .address
        .rsplit_once(':')
        .map(|(_, port)| port)
        .unwrap_or_default();
    let target = format!("http://127.0.0.1:{port}");
    let other_site = format!("http://localhost:{port}/index");
    let browser = Browser::start(None);

    browser.open(&other_site);
    let sent = browser.run_async(
        "const [base, done] = arguments;
         const wrong = () => fetch(base + '/login', {method: 'POST', mode: 'no-cors',
             body: new URLSearchParams({username: 'magigo', password: 'wrong'})});
         Promise.all(Array.from({length: 10}, wrong))
             .then(() => fetch(base + '/test?token=x', {mode: 'no-cors'}))
             .then(() => done('sent'), error => done(String(error)));",
        &target,
    );
    assert_eq!(sent, "sent");
    browser.run_async(
        "const [base, done] = arguments;
         const form = document.createElement('form');
         form.method = 'post';
         form.action = base + '/login';
         for (const [name, value] of [['username', 'magigo'], ['password', '123456']]) {
             const input = document.createElement('input');
             input.name = name;
             input.value = value;
             form.appendChild(input);
         }
         document.body.appendChild(form);
         form.submit();
         done('submitted');",
        &target,
    );
    browser.wait_for_url(&format!("{target}/login"));
    assert!(
        browser
            .page_text()
            .contains("error: the request came from another site's page."),
        "{}",
        browser.page_text()
    );

    // The visitor's own page: no budget was spent.
    browser.open(&format!("{target}/"));
    browser.type_into(r#"form[action="/login"] input[name="username"]"#, "magigo");
    browser.type_into(r#"form[action="/login"] input[name="password"]"#, "123456");
    browser.click(r#"form[action="/login"] button"#);
    let token = browser.text_of("code.token");
    assert!(STANDARD.decode(token.trim()).is_ok(), "{token}");

    let log = server.wait_for_stderr("POST /login 200 ");
    assert_eq!(log.matches("POST /login 403 ").count(), 11, "{log}");
    assert_eq!(log.matches("GET /test?token=*** 403 ").count(), 1, "{log}");
    assert!(!log.contains(" 401 ") && !log.contains(" 429 "), "{log}");
}

fn screenshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-page.png")
}

/// A headless Chromium, through a chromedriver of its own on a free loopback
/// port; both stop when it is dropped.
struct Browser {
    driver: Child,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    agent: ureq::Agent,
    profile: PathBuf,
}

/// How many browsers this process started: each has a profile of its own
/// (two Chromiums cannot share one).
static BROWSERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// What WebDriver calls an element reference's key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// With `home`, Chromium runs with that `HOME`, whose NSS database
    /// (`.pki/nssdb`) says which certificates it trusts.
    fn start(home: Option<&std::path::Path>) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new("chromedriver");
        if let Some(home) = home {
            command.env("HOME", home);
        }
        let driver = command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start chromedriver ({error}): `make test` installs it, with \
                     `bash scripts/install-packages.sh chromium chromium-driver`"
                )
            });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let profile = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "chromium-profile-{}-{}",
            std::process::id(),
            BROWSERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let mut browser = Browser {
            driver,
            session: String::new(),
            agent,
            profile,
        };
        browser.wait_until_ready(&base);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"args": [
                "--headless=new",
                // CI runs as root, where Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--password-store=basic",
                "--window-size=900,1000",
                format!("--user-data-dir={}", browser.profile.display()),
            ]},
        }}});
        let answer = browser.call("POST", &format!("{base}/session"), Some(capabilities));
        let id = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session from chromedriver: {answer}"));
        browser.session = format!("{base}/session/{id}");
        browser
    }

    /// Waits (10 s at most) for chromedriver to say it is ready.
    fn wait_until_ready(&mut self, base: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = self
                .agent
                .get(&format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut response| response.body_mut().read_to_string().ok())
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .is_some_and(|status| status["value"]["ready"] == true);
            if ready {
                return;
            }
            if let Ok(Some(status)) = self.driver.try_wait() {
                panic!("chromedriver exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after 10 s"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// One WebDriver command: its `value`, or a panic with WebDriver's error.
    fn call(&self, method: &str, url: &str, body: Option<Value>) -> Value {
        let result = match (method, body) {
            ("GET", _) => self.agent.get(url).call(),
            ("DELETE", _) => self.agent.delete(url).call(),
            (_, body) => self
                .agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut response = result.unwrap_or_else(|error| panic!("{method} {url}: {error}"));
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|error| panic!("{method} {url}: {error}"));
        let answer: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{method} {url}: {error} in {text}"));
        assert!(status.is_success(), "{method} {url}: {status} {answer}");
        answer["value"].clone()
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("{}{path}", self.session), body)
    }

    /// Loads `url`, and waits for the page to load.
    fn open(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn title(&self) -> String {
        self.command("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The element `css` selects: its WebDriver reference.
    fn find(&self, css: &str) -> String {
        let element = self.command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        element[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {element}"))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command("POST", &format!("/element/{element}/clear"), None);
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Clicks, and waits for the page it leads to, loaded.
    fn click(&self, css: &str) {
        let element = self.find(css);
        let before = self.url();
        self.command("POST", &format!("/element/{element}/click"), None);
        // chromedriver waits for a navigation it sees start; this is for one
        // it has not seen yet, or not seen end.
        let deadline = Instant::now() + Duration::from_secs(10);
        while (self.url() == before || self.ready_state() != "complete")
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `script` in the page with `argument`, and waits (30 s at most)
    /// for it to call its last argument back: what it called back with.
    fn run_async(&self, script: &str, argument: &str) -> String {
        self.command(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": [argument]})),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Waits (10 s at most) until the browser is at `url`, loaded.
    fn wait_for_url(&self, url: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while (self.url() != url || self.ready_state() != "complete") && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.url(), url);
    }

    /// `document.readyState`: `complete` once the page has loaded. (WebDriver
    /// runs this through the browser's debugger, which no page's
    /// Content-Security-Policy stops.)
    fn ready_state(&self) -> String {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return document.readyState", "args": []})),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    fn css_value(&self, element: &str, property: &str) -> String {
        self.command("GET", &format!("/element/{element}/css/{property}"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The text of the element `css` selects.
    fn text_of(&self, css: &str) -> String {
        let element = self.find(css);
        self.command("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Whether a dialog (an alert, or a login box) is pending: WebDriver
    /// answers "no such alert" when there is none.
    fn has_alert(&self) -> bool {
        let url = format!("{}/alert/text", self.session);
        self.agent
            .get(&url)
            .call()
            .is_ok_and(|response| response.status().is_success())
    }

    /// What the page shows: for a text/plain answer, its text.
    fn page_text(&self) -> String {
        let body = self.find("body");
        self.command("GET", &format!("/element/{body}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&self) -> Vec<u8> {
        let encoded = self.command("GET", "/screenshot", None);
        STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 PNG")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Closes Chromium; chromedriver is ours to stop, by its PID.
            let _ = self.agent.delete(&self.session).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
