/**
 * Local filesystem adapter: artifacts are files under one root directory (DATA_DIR/artifacts), like
 * MLflow's LocalArtifactRepository behind `mlflow server --artifacts-destination <dir>`.
 *
 * Besides the lexical checks of paths.ts, every access resolves symlinks and refuses a real path outside
 * the root (MLflow's `validate_path_within_directory`), so a link planted in the tree cannot leak files.
 * Uploads stream into a hidden temporary file next to the target and are renamed over it at the end, so
 * readers never see a partial file; the `.artifact.uploading.` prefix is reserved for those files and
 * hidden from listings, as in MLflow.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MlflowError } from '../errors.js';
import { basename, invalidPath, ROOT, type ArtifactPath } from './paths.js';
import {
  conflictError,
  isDirectoryError,
  noSuchArtifact,
  type ArtifactEntry,
  type ArtifactObject,
  type ArtifactStat,
  type ArtifactStore,
  type ByteRange,
} from './store.js';

export const TEMP_PREFIX = '.artifact.uploading.';

const CONFLICT_CODES = new Set(['ENOTDIR', 'EEXIST', 'EISDIR', 'ENOTEMPTY']);

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'local' as const;
  readonly description: string;
  private readonly root: string;
  private realRoot: string | undefined;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = this.root;
  }

  /** Creates the root directory; called once at start. */
  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    this.realRoot = await fsp.realpath(this.root);
  }

  private async rootReal(): Promise<string> {
    if (this.realRoot === undefined) await this.init();
    return this.realRoot!;
  }

  /** Lexical join, then a containment check (defence in depth: paths.ts already refused `..`). */
  private abs(p: ArtifactPath): string {
    const abs = p === ROOT ? this.root : path.join(this.root, ...p.split('/'));
    if (abs !== this.root && !abs.startsWith(this.root + path.sep)) throw invalidPath();
    return abs;
  }

  /** Refuses an existing path whose real location (symlinks resolved) is outside the root. */
  private async checkReal(abs: string): Promise<void> {
    let real: string;
    try {
      real = await fsp.realpath(abs);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
      throw err;
    }
    const root = await this.rootReal();
    if (real !== root && !real.startsWith(root + path.sep)) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid path: resolved path is outside the artifact directory');
    }
  }

  /** The nearest existing ancestor of `abs` (itself included), so nothing is created through a link. */
  private async deepestExisting(abs: string): Promise<string> {
    let cur = abs;
    while (cur !== this.root && cur.startsWith(this.root)) {
      try {
        await fsp.lstat(cur);
        return cur;
      } catch {
        cur = path.dirname(cur);
      }
    }
    return this.root;
  }

  async list(dir: ArtifactPath): Promise<ArtifactEntry[]> {
    const abs = this.abs(dir);
    await this.checkReal(abs);
    let dirents: fs.Dirent[];
    try {
      dirents = await fsp.readdir(abs, { withFileTypes: true });
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return [];
      throw err;
    }
    const out: ArtifactEntry[] = [];
    for (const d of dirents) {
      if (d.name.startsWith(TEMP_PREFIX)) continue;
      let st: fs.Stats;
      try {
        st = await fsp.stat(path.join(abs, d.name));
      } catch {
        continue; // vanished, or a dangling link
      }
      out.push(st.isDirectory() ? { name: d.name, isDir: true } : { name: d.name, isDir: false, size: st.size });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async stat(p: ArtifactPath): Promise<ArtifactStat | undefined> {
    const abs = this.abs(p);
    await this.checkReal(abs);
    try {
      const st = await fsp.stat(abs);
      return st.isDirectory() ? { type: 'dir' } : { type: 'file', size: st.size, lastModified: st.mtime };
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return undefined;
      throw err;
    }
  }

  async get(p: ArtifactPath, range?: (size: number) => ByteRange | undefined): Promise<ArtifactObject> {
    const abs = this.abs(p);
    await this.checkReal(abs);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(abs, 'r');
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) throw noSuchArtifact(p);
      if (errno(err) === 'EISDIR') throw isDirectoryError(p);
      throw err;
    }
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw isDirectoryError(p);
      const r = range?.(st.size);
      const stream = handle.createReadStream(r ? { start: r.start, end: r.end, highWaterMark: 256 * 1024 } : { highWaterMark: 256 * 1024 });
      return { body: Readable.toWeb(stream) as ReadableStream<Uint8Array>, size: st.size, lastModified: st.mtime, range: r };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async put(p: ArtifactPath, body: ReadableStream<Uint8Array> | null, _contentType: string): Promise<void> {
    const name = basename(p);
    if (name.startsWith(TEMP_PREFIX)) {
      throw MlflowError.invalid(`Invalid artifact file name: '${name}'. Artifact names starting with '${TEMP_PREFIX}' are reserved.`);
    }
    const abs = this.abs(p);
    const dir = path.dirname(abs);
    await this.checkReal(await this.deepestExisting(dir));
    try {
      await fsp.mkdir(dir, { recursive: true });
    } catch (err) {
      if (CONFLICT_CODES.has(errno(err) ?? '')) throw conflictError(p);
      throw err;
    }
    await this.checkReal(dir);
    const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let out: fs.WriteStream | undefined;
    try {
      out = fs.createWriteStream(tmp, { flags: 'wx', highWaterMark: 1024 * 1024 });
      if (body) await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream), out);
      else await new Promise<void>((resolve, reject) => out!.end((err?: Error | null) => (err ? reject(err) : resolve())));
      await fsp.rename(tmp, abs);
    } catch (err) {
      // A body that failed (too large, too slow, client gone) leaves nothing behind: the temporary file is
      // removed once its stream has closed (an open still in flight would otherwise create it afterwards).
      if (out && !out.closed) await new Promise<void>((resolve) => (out!.destroy(), out!.once('close', () => resolve())));
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      if (CONFLICT_CODES.has(errno(err) ?? '')) throw conflictError(p);
      throw err;
    }
  }

  async delete(p: ArtifactPath): Promise<void> {
    if (p === ROOT) throw invalidPath();
    const abs = this.abs(p);
    // The parent must resolve inside the root; the entry itself may be a link (rm removes the link only).
    await this.checkReal(path.dirname(abs));
    try {
      await fsp.rm(abs, { recursive: true, force: true });
    } catch (err) {
      // A path through a file (`f/child` where `f` is a file) does not exist: nothing to delete, as in MLflow.
      if (errno(err) !== 'ENOTDIR') throw err;
    }
  }

  async close(): Promise<void> {}
}
