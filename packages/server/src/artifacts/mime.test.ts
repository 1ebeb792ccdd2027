/**
 * Download headers against MLflow 3.17.2's own answers: `_guess_mime_type(name)` and
 * `_content_disposition_attachment(name)`, evaluated in Python with the built-in mimetypes table (no
 * /etc/mime.types, whose contents vary by host) to produce the table below.
 */
import { describe, expect, it } from 'vitest';
import { contentDisposition, guessMimeType } from './mime.js';

/** name → [MLflow's content type, MLflow's Content-Disposition]. */
const MLFLOW: Record<string, [string, string]> = {
  "MLmodel": ["text/plain", "attachment; filename=MLmodel"],
  "MLproject": ["application/octet-stream", "attachment; filename=MLproject"],
  "model.pkl": ["application/octet-stream", "attachment; filename=model.pkl"],
  "conda.yaml": ["text/plain", "attachment; filename=conda.yaml"],
  "requirements.txt": ["text/plain", "attachment; filename=requirements.txt"],
  "x.json": ["text/plain", "attachment; filename=x.json"],
  "x.JSON": ["application/json", "attachment; filename=x.JSON"],
  "a.tar.gz": ["application/x-tar", "attachment; filename=a.tar.gz"],
  "a.tgz": ["application/x-tar", "attachment; filename=a.tgz"],
  "a.gz": ["application/octet-stream", "attachment; filename=a.gz"],
  "x.png": ["image/png", "attachment; filename=x.png"],
  "x.PNG": ["image/png", "attachment; filename=x.PNG"],
  "x.jpg": ["image/jpeg", "attachment; filename=x.jpg"],
  "x.html": ["text/html", "attachment; filename=x.html"],
  "x.htm": ["text/html", "attachment; filename=x.htm"],
  "x.svg": ["image/svg+xml", "attachment; filename=x.svg"],
  "x.svgz": ["image/svg+xml", "attachment; filename=x.svgz"],
  "x.csv": ["text/plain", "attachment; filename=x.csv"],
  "x.parquet": ["application/octet-stream", "attachment; filename=x.parquet"],
  "x.onnx": ["application/octet-stream", "attachment; filename=x.onnx"],
  ".bashrc": ["application/octet-stream", "attachment; filename=.bashrc"],
  "noext": ["application/octet-stream", "attachment; filename=noext"],
  "txt": ["text/plain", "attachment; filename=txt"],
  "x.py": ["text/plain", "attachment; filename=x.py"],
  "x.ipynb": ["text/plain", "attachment; filename=x.ipynb"],
  "x.pdf": ["application/pdf", "attachment; filename=x.pdf"],
  "x.zip": ["application/zip", "attachment; filename=x.zip"],
  "x.bin": ["application/octet-stream", "attachment; filename=x.bin"],
  "x.npy": ["application/octet-stream", "attachment; filename=x.npy"],
  "x.pt": ["application/octet-stream", "attachment; filename=x.pt"],
  "x.h5": ["application/x-hdf5", "attachment; filename=x.h5"],
  "x.js": ["text/plain", "attachment; filename=x.js"],
  "x.mjs": ["application/javascript", "attachment; filename=x.mjs"],
  "x.wasm": ["application/wasm", "attachment; filename=x.wasm"],
  "x.md": ["text/plain", "attachment; filename=x.md"],
  "x.tar.bz2": ["application/x-tar", "attachment; filename=x.tar.bz2"],
  "x.Z": ["application/octet-stream", "attachment; filename=x.Z"],
  "x.tar.xz": ["application/x-tar", "attachment; filename=x.tar.xz"],
  "x.webp": ["application/octet-stream", "attachment; filename=x.webp"],
  "x.mp4": ["video/mp4", "attachment; filename=x.mp4"],
  "x.wav": ["audio/x-wav", "attachment; filename=x.wav"],
  "x.xml": ["text/plain", "attachment; filename=x.xml"],
  "x.yml": ["text/plain", "attachment; filename=x.yml"],
  "..x": ["application/octet-stream", "attachment; filename=..x"],
  "x.": ["application/octet-stream", "attachment; filename=x."],
  "x.tar": ["application/x-tar", "attachment; filename=x.tar"],
  "x.7z": ["application/octet-stream", "attachment; filename=x.7z"],
  "weird name.txt": ["text/plain", "attachment; filename=\"weird name.txt\""],
  "日本語.txt": ["text/plain", "attachment; filename=.txt; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt"],
  "a\"b.txt": ["text/plain", "attachment; filename=\"a\\\"b.txt\""],
  "a\\b": ["application/octet-stream", "attachment; filename=\"a\\\\b\""],
  "a;b.bin": ["application/octet-stream", "attachment; filename=\"a;b.bin\""],
  "données.csv": ["text/plain", "attachment; filename=donnees.csv; filename*=UTF-8''donn%C3%A9es.csv"],
  "日本語": ["application/octet-stream", "attachment; filename=download; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E"],
};

describe('download headers (MLflow parity)', () => {
  for (const [name, [type, disposition]] of Object.entries(MLFLOW)) {
    it(`${JSON.stringify(name)} → ${type}`, () => {
      expect(guessMimeType(name)).toBe(type);
      expect(contentDisposition(name)).toBe(disposition);
    });
  }
});
