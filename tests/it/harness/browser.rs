//! A real browser for the page and dashboard tests: Debian's Chromium, headless, driven over
//! WebDriver (fantoccini) through its own ChromeDriver on a free port with a fresh profile, so
//! tests run in parallel and share no cookies. Every screenshot is written under
//! `target/tmp/screenshots/<test>/` for a person to look at.

use std::cell::RefCell;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use flashgate::stack::{Component, ready};
use serde_json::{Value, json};

use super::{eventually, free_addr};

/// How long a page may take to show what a test waits for: generous, because Chromium shares two
/// cores with the rest of the suite.
pub const PAGE_WAIT: Duration = Duration::from_secs(30);

/// Chromium's flags: headless, no sandbox (CI runs as root), and none of the background
/// connections a closed network refuses.
const CHROMIUM_ARGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1280,900",
];

/// One browser session.
pub struct Browser {
    client: Client,
    screenshots: PathBuf,
    shots_taken: u32,
    // Dropped in this order: the driver (and the browser it started) before its profile folder.
    driver: Component,
    _profile: tempfile::TempDir,
}

/// Makes `home/.pki/nssdb`, the NSS trust store Chromium on Linux reads, trusting `ca_pem` to
/// identify web sites: a browser that trusts the CA as a user who imported it would.
fn trust_store(home: &std::path::Path, ca_pem: &str) {
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("NSS folder");
    let ca = home.join("ca.pem");
    std::fs::write(&ca, ca_pem).expect("CA written");
    let store = format!("sql:{}", db.display());
    let certutil = |args: &[&str]| {
        let status = Command::new("certutil")
            .args(args)
            .status()
            .unwrap_or_else(|e| panic!("certutil ({e}); scripts/test installs libnss3-tools"));
        assert!(status.success(), "certutil {args:?}");
    };
    certutil(&["-N", "-d", &store, "--empty-password"]);
    let ca = ca.display().to_string();
    certutil(&[
        "-A",
        "-d",
        &store,
        "-n",
        "flashgate test CA",
        "-t",
        "C,,",
        "-i",
        &ca,
    ]);
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium; `test` names the screenshot folder.
    pub async fn start(test: &str) -> Self {
        Self::launch(test, None).await
    }

    /// Like [`Self::start`], with a profile that trusts `ca_pem` for https sites.
    pub async fn start_trusting(test: &str, ca_pem: &str) -> Self {
        Self::launch(test, Some(ca_pem)).await
    }

    async fn launch(test: &str, ca_pem: Option<&str>) -> Self {
        let profile = tempfile::tempdir().expect("temp dir for the browser profile");
        let addr = free_addr();
        let chromedriver = std::env::var("FLASHGATE_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let mut command = Command::new(&chromedriver);
        command.arg(format!("--port={}", addr.port()));
        if let Some(ca_pem) = ca_pem {
            // Chromium reads its trust store from $HOME; this browser's HOME is its own.
            let home = profile.path().join("home");
            trust_store(&home, ca_pem);
            command.env("HOME", &home);
        }
        // Its own process group, so stopping it also stops every browser process it started.
        command.process_group(0);
        let driver = Component::spawn(
            "chromedriver",
            command,
            &profile.path().join("chromedriver.log"),
        )
        .unwrap_or_else(|e| {
            panic!("cannot start {chromedriver} ({e}); scripts/test installs chromium-driver")
        });
        tokio::task::block_in_place(|| {
            // It ignores HTTP/1.0, so the probe is the listening port itself.
            ready::wait_until("chromedriver", Duration::from_secs(20), || {
                ready::port_open(addr)
            })
        })
        .expect("chromedriver answers");

        let chromium =
            std::env::var("FLASHGATE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!(
            "--user-data-dir={}",
            profile.path().join("chromium").display()
        ));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://{addr}"))
            .await
            .expect("chromium starts under chromedriver");

        let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("screenshots")
            .join(test);
        std::fs::create_dir_all(&screenshots).expect("screenshot folder");
        Self {
            client,
            screenshots,
            shots_taken: 0,
            driver,
            _profile: profile,
        }
    }

    /// Loads `url` in the current tab.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("page loads");
    }

    /// Opens a new tab (same cookies) and switches to it.
    pub async fn new_tab(&self) {
        let tab = self.client.new_window(true).await.expect("new tab");
        self.client
            .switch_to_window(tab.handle)
            .await
            .expect("switch to the new tab");
    }

    /// Resizes the window, e.g. to a phone's viewport.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window resized");
    }

    /// Reads the element `css` with `read`, which must exist: a check of a missing element must
    /// fail, never pass as "not enabled" or "not shown". An element the page re-rendered between
    /// finding and reading it (a stale reference) is found again.
    async fn read<T, F, Fut>(&self, css: &str, read: F) -> T
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let mut last = None;
        for _ in 0..5 {
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("the page has no {css}: {e}"));
            match read(element).await {
                Ok(value) => return value,
                Err(e) => last = Some(e),
            }
        }
        panic!("cannot read {css}: {last:?}")
    }

    /// The visible text of the element `css` while it exists (re-rendered or not yet there:
    /// `None`), for waits.
    async fn try_text(&self, css: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        element.text().await.ok()
    }

    /// Opens `url` signed in as `user`, as the site would sign a visitor in (the edge's dev
    /// session endpoint sets the cookie), then loads it again with the session.
    pub async fn open_as(&self, url: &str, user: &str) {
        self.goto(url).await;
        self.script(&format!(
            "return fetch('/api/dev/session?user={user}', {{method: 'POST'}}).then(r => r.status);"
        ))
        .await;
        self.goto(url).await;
    }

    /// The visible text of the element `css`, which must exist.
    pub async fn text(&self, css: &str) -> String {
        self.read(css, |e| async move { e.text().await }).await
    }

    /// Whether the element `css`, which must exist, is enabled.
    pub async fn enabled(&self, css: &str) -> bool {
        self.read(css, |e| async move { e.is_enabled().await })
            .await
    }

    /// Whether the element `css`, which must exist, is shown.
    pub async fn displayed(&self, css: &str) -> bool {
        self.read(css, |e| async move { e.is_displayed().await })
            .await
    }

    /// The attribute `name` of the element `css`.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        element.attr(name).await.ok().flatten()
    }

    /// The element's width and the window's inner width, in CSS pixels.
    pub async fn width_and_viewport(&self, css: &str) -> (f64, f64) {
        let element = self.client.find(Locator::Css(css)).await.expect("element");
        let (_, _, width, _) = element.rectangle().await.expect("element has a box");
        let viewport = self
            .script("return window.innerWidth;")
            .await
            .as_f64()
            .expect("a number");
        (width, viewport)
    }

    /// Clicks the element `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} to click: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Types `text` into the element `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.expect("field");
        field.clear().await.expect("field cleared");
        field.send_keys(text).await.expect("typed");
    }

    /// Runs `body` as a function in the page and returns its result (a returned promise is
    /// awaited).
    pub async fn script(&self, body: &str) -> Value {
        self.client
            .execute(body, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Waits (bounded) until the text of `css` satisfies `check`; returns that text.
    pub async fn wait_for_text(
        &self,
        css: &str,
        what: &str,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let seen = RefCell::new(String::new());
        eventually(what, PAGE_WAIT, || {
            let (seen, check) = (&seen, &check);
            async move {
                let text = self.try_text(css).await.unwrap_or_default();
                let holds = check(&text);
                *seen.borrow_mut() = text;
                holds
            }
        })
        .await;
        seen.into_inner()
    }

    /// Waits (bounded) until the element `css` is enabled, or disabled.
    pub async fn wait_for_enabled(&self, css: &str, enabled: bool) {
        let what = format!("{css} {}", if enabled { "enabled" } else { "disabled" });
        eventually(&what, PAGE_WAIT, || async move {
            self.enabled(css).await == enabled
        })
        .await;
    }

    /// What the page in front of the browser gets wrong for accessibility (`a11y.js`): a missing
    /// language, control name or field label, or text below WCAG AA contrast.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let found = self.script(include_str!("a11y.js")).await;
        serde_json::from_value(found).expect("a list of problems")
    }

    /// Saves a screenshot of the window as `NN-name.png` and returns its path.
    pub async fn screenshot(&mut self, name: &str) -> PathBuf {
        self.shots_taken += 1;
        let png = self.client.screenshot().await.expect("screenshot taken");
        let path = self
            .screenshots
            .join(format!("{:02}-{name}.png", self.shots_taken));
        std::fs::write(&path, png).expect("screenshot written");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Ends the session: the browser exits, then (on drop) the driver.
    pub async fn close(self) {
        self.client
            .clone()
            .close()
            .await
            .expect("browser session closes");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed never reached `close`: stop the whole group, browser included.
        if let Ok(pid) = i32::try_from(self.driver.pid()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
