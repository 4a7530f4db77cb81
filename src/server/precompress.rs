//! Static assets with a brotli twin at full quality. `cargo leptos build --release
//! --precompress` writes `.br` (and `.gz`) files beside the JS, WASM and CSS; built without
//! it (as the Leptos docs' `cargo leptos build --release` is), the server would compress on
//! the fly at a low quality (first load 342 KB instead of 271 KB). So at start, every asset
//! without a `.br` twin gets one, written beside it at the quality cargo-leptos uses, and the
//! server says so; when the directory is read-only it warns loudly and serves what it can.

use std::path::{Path, PathBuf};

/// What cargo-leptos' `--precompress` uses.
const QUALITY: u32 = 11;
const WINDOW: u32 = 22;

/// Files worth compressing (text and WebAssembly), by extension.
const COMPRESSIBLE: &[&str] = &["js", "wasm", "css", "html", "svg", "json", "txt"];

/// Gives every compressible file under `dir` (not recursive) a `.br` twin if it has none.
/// Returns the files it compressed.
pub fn ensure_brotli_twins(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut made = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(made);
    };
    for entry in entries {
        let path = entry?.path();
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        let mut twin = path.clone().into_os_string();
        twin.push(".br");
        let twin = PathBuf::from(twin);
        if !compressible || is_fresh(&twin, &path) {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        std::fs::write(&twin, compress(&bytes))?;
        made.push(path);
    }
    Ok(made)
}

/// Whether `twin` exists and is not older than `source` (a rebuild rewrote the asset).
fn is_fresh(twin: &Path, source: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(twin), modified(source)) {
        (Some(twin), Some(source)) => twin >= source,
        _ => false,
    }
}

/// `bytes` as brotli at [`QUALITY`].
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: QUALITY as i32,
        lgwin: WINDOW as i32,
        ..Default::default()
    };
    let mut input = bytes;
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

/// Runs [`ensure_brotli_twins`] on the site's asset directory and reports what it did.
pub fn prepare(pkg_dir: &Path) {
    match ensure_brotli_twins(pkg_dir) {
        Ok(made) if made.is_empty() => {}
        Ok(made) => tracing::warn!(
            files = made.len(),
            dir = %pkg_dir.display(),
            "the site was built without --precompress: compressed its assets now (brotli {QUALITY})"
        ),
        Err(e) => tracing::error!(
            dir = %pkg_dir.display(),
            error = %e,
            "the site was built without --precompress and its assets cannot be compressed \
             here: they go out compressed on the fly, much larger (build with \
             `cargo leptos build --release --precompress`)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asset_without_a_twin_gets_one_that_decodes_to_it_and_others_are_left_alone() {
        let dir = std::env::temp_dir().join(format!("chat-precompress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wasm: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        std::fs::write(dir.join("chat.wasm"), &wasm).unwrap();
        std::fs::write(dir.join("chat.js"), b"export {}").unwrap();
        std::fs::write(dir.join("chat.js.br"), b"already there").unwrap();
        std::fs::write(dir.join("logo.png"), b"\x89PNG").unwrap();
        let made = ensure_brotli_twins(&dir).unwrap();
        assert_eq!(made, [dir.join("chat.wasm")]);
        let twin = std::fs::read(dir.join("chat.wasm.br")).unwrap();
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut twin.as_slice(), &mut decoded).unwrap();
        assert_eq!(decoded, wasm);
        assert_eq!(
            std::fs::read(dir.join("chat.js.br")).unwrap(),
            b"already there"
        );
        assert!(!dir.join("logo.png.br").exists());
        assert!(
            ensure_brotli_twins(&dir).unwrap().is_empty(),
            "once is enough"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
