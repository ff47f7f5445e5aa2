//! The static site of `crates/web/build.sh` served as any static file server would: files
//! by path, with their MIME types, nothing else (no `/api/`). The browser test opens the
//! playground from it and must get the lesson's numbers from the WebAssembly module alone.
//! And the builder itself: it never replaces what it did not write.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

/// Where `crates/web/build.sh` writes the site by default: `site/` in the target folder.
pub fn built_site() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let site = tmp.parent().expect("the target folder").join("site");
    assert!(
        site.join("pkg/squiggle_web_bg.wasm").is_file(),
        "no static site at {}: build it first with `bash crates/web/build.sh` (.ci/run does)",
        site.display()
    );
    site
}

/// A static file server on a free port of 127.0.0.1, serving `root` on a thread of its own
/// for as long as the test runs.
pub struct StaticSite {
    /// `http://127.0.0.1:PORT`, without the final slash.
    pub url: String,
}

impl StaticSite {
    /// Serves the files under `root`.
    pub fn start(root: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                std::thread::spawn(move || serve(&root, stream));
            }
        });
        Self { url }
    }
}

/// Answers the requests of one connection: `GET /path` is the file there (`/` is
/// `index.html`), anything else a 404.
fn serve(root: &Path, stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        // The headers, up to the blank line; requests for files have no body.
        let mut header = String::new();
        while reader.read_line(&mut header).unwrap_or(0) > 0 && header.trim() != "" {
            header.clear();
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = target.split('?').next().unwrap_or("");
        let file = match path {
            "/" => root.join("index.html"),
            p if !p.contains("..") => root.join(p.trim_start_matches('/')),
            _ => root.join("\0"),
        };
        let (status, kind, body) = match (method, std::fs::read(&file)) {
            ("GET", Ok(body)) => ("200 OK", mime(&file), body),
            _ => ("404 Not Found", "text/plain", b"not found".to_vec()),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
            return;
        }
    }
}

/// The MIME type of a site's file (`application/wasm` lets the browser compile the module as
/// it downloads).
fn mime(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// `crates/web/build.sh FOLDER`, answering its exit code and standard error.
fn build_site_into(folder: &Path) -> (Option<i32>, String) {
    let out = std::process::Command::new("bash")
        .arg(crate::util::root().join("crates/web/build.sh"))
        .arg(folder)
        .output()
        .expect("bash runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_site_builder_never_replaces_a_folder_of_other_files_or_a_link() {
    let dir = crate::util::scratch();
    let folder = dir.path().join("notes");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("mine.txt"), "keep me").unwrap();
    let (code, stderr) = build_site_into(&folder);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("exists and is not a site this script built"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("mine.txt")).unwrap(),
        "keep me"
    );

    let file = dir.path().join("file.txt");
    std::fs::write(&file, "keep me too").unwrap();
    let (code, stderr) = build_site_into(&file);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me too");

    #[cfg(unix)]
    {
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&folder, &link).unwrap();
        let (code, stderr) = build_site_into(&link);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("is a symbolic link"), "{stderr}");
        assert!(folder.join("mine.txt").is_file());
    }
}
