//! The product page and its assets, held in memory: read from `static/` at start and on every
//! reload, precompressed once (brotli and gzip), and served with a strong ETag so a refreshing crowd costs the
//! edge a hash-map lookup and the network almost nothing.
//!
//! Assets are also served under fingerprinted names (`page.1f2e3d4c5b6a7988.js`, the content's
//! hash in the name), which the pages refer to: those never change, so browsers and a CDN keep
//! them a year (`immutable`), while the pages themselves are revalidated on every load and a
//! reload reaches every buyer at once with new names for whatever changed.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// Largest file the cache holds; the page is small by design.
const MAX_FILE: u64 = 2 * 1024 * 1024;

/// One file, ready to send.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The bytes as stored.
    pub body: Bytes,
    /// Gzip of `body`, when that is smaller.
    pub gzip: Option<Bytes>,
    /// Brotli of `body`, when that is smaller.
    pub brotli: Option<Bytes>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Strong validator: a hash of the content, quoted.
    pub etag: String,
    /// The `Cache-Control` it is served with.
    pub cache_control: &'static str,
}

/// Pages and assets under their plain names: cached, but checked with the edge on every use.
const REVALIDATE: &str = "no-cache";

/// Assets under their fingerprinted names: the name changes with the content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl Asset {
    /// `body`, served as `name`'s type with `cache_control`, compressed once.
    pub fn new(name: &str, body: Bytes, cache_control: &'static str) -> Self {
        Self {
            gzip: gzip(&body),
            brotli: brotli(&body),
            content_type: content_type(name),
            etag: format!("\"{}\"", &content_hash(&body)[..32]),
            body,
            cache_control,
        }
    }
}

fn content_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// `name` with `hash` before its extension: `page.js` → `page.HASH.js`.
fn fingerprinted(name: &str, hash: &str) -> String {
    let hash = &hash[..16];
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{name}.{hash}"),
    }
}

/// `html` with each `"/static/NAME"` of a fingerprinted asset replaced by its fingerprinted name.
fn refer_to_fingerprints(html: &[u8], names: &[(String, String)]) -> Bytes {
    let mut text = String::from_utf8_lossy(html).into_owned();
    for (name, fingerprinted) in names {
        text = text.replace(
            &format!("\"/static/{name}\""),
            &format!("\"/static/{fingerprinted}\""),
        );
    }
    Bytes::from(text)
}

/// Every file of the static folder by name.
#[derive(Debug, Clone, Default)]
pub struct PageCache {
    assets: HashMap<String, Asset>,
}

/// Why the static folder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The folder or a file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// What failed.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file is larger than the cache accepts.
    #[error("{0} is larger than {MAX_FILE} bytes")]
    TooLarge(String),
    /// There is no `index.html` to serve.
    #[error("the static folder has no index.html")]
    NoIndex,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn brotli(body: &[u8]) -> Option<Bytes> {
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 4096, 11, 22);
        writer.write_all(body).ok()?;
    }
    (compressed.len() < body.len()).then(|| Bytes::from(compressed))
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(body).ok()?;
    let compressed = encoder.finish().ok()?;
    (compressed.len() < body.len()).then(|| Bytes::from(compressed))
}

impl PageCache {
    /// Loads every regular file directly inside `dir`.
    pub fn load(dir: &Path) -> Result<Self, PageError> {
        let read_err = |path: &Path| {
            let path = path.display().to_string();
            move |source| PageError::Read { path, source }
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
            let entry = entry.map_err(read_err(dir))?;
            let path = entry.path();
            let meta = entry.metadata().map_err(read_err(&path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !meta.is_file() || name.starts_with('.') {
                continue;
            }
            if meta.len() > MAX_FILE {
                return Err(PageError::TooLarge(name));
            }
            let body = Bytes::from(std::fs::read(&path).map_err(read_err(&path))?);
            files.push((name, body));
        }
        let (pages, others): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|(name, _)| name.ends_with(".html"));
        let mut assets = HashMap::new();
        let mut fingerprints = Vec::new();
        let mut immutable = Vec::new();
        for (name, body) in others {
            let asset = Asset::new(&name, body, REVALIDATE);
            // The fingerprint is the start of the content hash the ETag already carries, and the
            // fingerprinted copy shares the compressed bodies: each file is hashed and
            // compressed once.
            let fingerprinted = fingerprinted(&name, asset.etag.trim_matches('"'));
            let copy = Asset {
                cache_control: IMMUTABLE,
                ..asset.clone()
            };
            immutable.push((fingerprinted.clone(), copy));
            fingerprints.push((name.clone(), fingerprinted));
            assets.insert(name, asset);
        }
        for (name, body) in pages {
            let body = refer_to_fingerprints(&body, &fingerprints);
            assets.insert(name.clone(), Asset::new(&name, body, REVALIDATE));
        }
        // A file whose own name looks fingerprinted keeps that name.
        for (fingerprinted, copy) in immutable {
            assets.entry(fingerprinted).or_insert(copy);
        }
        if !assets.contains_key(crate::routes::INDEX) {
            return Err(PageError::NoIndex);
        }
        Ok(Self { assets })
    }

    /// The file called `name`.
    pub fn get(&self, name: &str) -> Option<&Asset> {
        self.assets.get(name)
    }
}

/// Whether the client accepts `coding`, per `Accept-Encoding`.
pub fn accepts(accept_encoding: Option<&str>, coding: &str) -> bool {
    accept_encoding.is_some_and(|v| {
        v.split(',').any(|offered| {
            let mut parts = offered.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case(coding) && !refused
        })
    })
}

/// The response for `asset`: 304 when the client's copy is current, else the body, gzipped when
/// the client accepts it, cached as the asset says.
pub fn answer(asset: &Asset, req: &pingora::http::RequestHeader) -> crate::respond::Answer {
    let header =
        |name: http::header::HeaderName| req.headers.get(name).and_then(|v| v.to_str().ok());
    let mut headers = vec![
        ("etag", asset.etag.clone()),
        ("cache-control", asset.cache_control.to_owned()),
        ("vary", "accept-encoding".to_owned()),
    ];
    let fresh = header(http::header::IF_NONE_MATCH).is_some_and(|tags| {
        tags.split(',')
            .any(|t| t.trim() == asset.etag || t.trim() == "*")
    });
    if fresh {
        return crate::respond::Answer::Raw {
            status: 304,
            content_type: asset.content_type,
            body: Bytes::new(),
            headers,
        };
    }
    let accept = header(http::header::ACCEPT_ENCODING);
    let body = match (&asset.brotli, &asset.gzip) {
        (Some(br), _) if accepts(accept, "br") => {
            headers.push(("content-encoding", "br".to_owned()));
            br.clone()
        }
        (_, Some(gz)) if accepts(accept, "gzip") => {
            headers.push(("content-encoding", "gzip".to_owned()));
            gz.clone()
        }
        _ => asset.body.clone(),
    };
    crate::respond::Answer::Raw {
        status: 200,
        content_type: asset.content_type,
        body,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_hashes_and_compresses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>".repeat(200)).unwrap();
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        let cache = PageCache::load(dir.path()).unwrap();
        let index = cache.get("index.html").unwrap();
        assert!(index.content_type.starts_with("text/html"));
        assert!(index.gzip.as_ref().unwrap().len() < index.body.len());
        assert!(index.brotli.as_ref().unwrap().len() < index.body.len());
        assert!(cache.get(".hidden").is_none());
    }

    #[test]
    fn pages_refer_to_assets_by_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let html = r#"<link href="/static/page.css"><script src="/static/page.js"></script>"#;
        std::fs::write(dir.path().join("index.html"), html).unwrap();
        std::fs::write(dir.path().join("page.js"), "let a = 1;").unwrap();
        std::fs::write(dir.path().join("page.css"), "p {}").unwrap();
        let cache = PageCache::load(dir.path()).unwrap();
        let index = cache.get("index.html").unwrap();
        assert_eq!(index.cache_control, REVALIDATE);
        let page = String::from_utf8(index.body.to_vec()).unwrap();
        let hash = &content_hash(b"let a = 1;")[..16];
        let script = format!("page.{hash}.js");
        assert!(page.contains(&format!("\"/static/{script}\"")), "{page}");
        assert!(!page.contains("\"/static/page.css\""), "{page}");
        let asset = cache.get(&script).unwrap();
        assert_eq!(&asset.body[..], b"let a = 1;");
        assert_eq!(asset.cache_control, IMMUTABLE);
        assert_eq!(cache.get("page.js").unwrap().cache_control, REVALIDATE);
        assert!(cache.get("page.0000000000000000.js").is_none());
    }

    #[test]
    fn a_folder_without_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            PageCache::load(dir.path()),
            Err(PageError::NoIndex)
        ));
    }

    #[test]
    fn encoding_negotiation() {
        assert!(accepts(Some("gzip, deflate, br"), "gzip"));
        assert!(accepts(Some("gzip, deflate, br"), "br"));
        assert!(!accepts(Some("gzip;q=0, br"), "gzip"));
        assert!(!accepts(Some("br"), "gzip"));
        assert!(!accepts(None, "br"));
    }
}
