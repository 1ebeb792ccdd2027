/** The one path-safety module: decode once, check, normalise once. */
import { describe, expect, it } from 'vitest';
import { MlflowError } from '../errors.js';
import { childOf, parseDecodedPath, parseEncodedPath, rawTargetHasDotDot, requireFilePath, ROOT, type ArtifactPath } from './paths.js';
import { errorBody } from '../errors.js';

const invalid = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MlflowError);
    expect((err as MlflowError).toJSON()).toEqual(errorBody('INVALID_PARAMETER_VALUE', 'Invalid path'));
    return;
  }
  throw new Error('expected Invalid path');
};

describe('parseEncodedPath', () => {
  it('decodes exactly once and normalises', () => {
    expect(parseEncodedPath('a/b/c')).toBe('a/b/c');
    expect(parseEncodedPath('a%2Fb%2Fc')).toBe('a/b/c');
    expect(parseEncodedPath('a//b/./c/')).toBe('a/b/c');
    expect(parseEncodedPath('./a')).toBe('a');
    expect(parseEncodedPath('')).toBe(ROOT);
    expect(parseEncodedPath('%2F'.slice(0, 0))).toBe(ROOT);
    expect(parseEncodedPath('with%20space/%C3%A9t%C3%A9.txt')).toBe('with space/été.txt');
    expect(parseEncodedPath('100%25.txt')).toBe('100%.txt'); // a lone % after decoding is an ordinary character
    expect(parseEncodedPath('...')).toBe('...');
    expect(parseEncodedPath('a..b/..c/d..')).toBe('a..b/..c/d..');
  });

  it.each([
    '..',
    'a/../b',
    '..%2F..%2Fetc',
    '%2E%2E',
    '%2e%2e%2fx',
    '%252E%252E',
    'a%2520b', // double-encoded: decodes to a%20b
    '%2Fetc',
    '/etc',
    'C:%2F',
    'c:x',
    'file:%2F%2F%2Fetc',
    'a%5Cb',
    'a%23b',
    'a%3Fb',
    'a%00b',
    'a%0Ab',
    'a%7F',
    '%C0%AE',
    '%E0%A4%A',
    'a%ZZ',
  ])('rejects %s', (raw) => invalid(() => parseEncodedPath(raw)));
});

describe('parseDecodedPath (query and JSON values)', () => {
  it('does not decode again', () => {
    expect(parseDecodedPath('a b/c')).toBe('a b/c');
    invalid(() => parseDecodedPath('a%2Fb'));
    invalid(() => parseDecodedPath('a\\b'));
    invalid(() => parseDecodedPath('../x'));
  });
});

describe('requireFilePath', () => {
  it('needs a file name', () => {
    expect(requireFilePath('a/b', 'a/b' as ArtifactPath)).toBe('a/b');
    expect(() => requireFilePath('a/b/', 'a/b' as ArtifactPath)).toThrow("Artifact path must include a filename (cannot end with '/').");
    invalid(() => requireFilePath('.', ROOT));
  });
});

describe('childOf (multipart object names)', () => {
  it('takes the basename of the client path, either separator', () => {
    expect(childOf('d' as ArtifactPath, '/tmp/model/w.bin')).toBe('d/w.bin');
    expect(childOf('d' as ArtifactPath, 'C:\\Users\\me\\w.bin')).toBe('d/w.bin');
    expect(childOf(ROOT, 'w.bin')).toBe('w.bin');
    for (const bad of ['', '/tmp/', '..', '/x/..', '.', 'a%2E%2E', 'a#b', 'x\u0000']) invalid(() => childOf('d' as ArtifactPath, bad));
  });
});

describe('rawTargetHasDotDot', () => {
  it('finds plain and percent-encoded .. segments in the path only', () => {
    for (const t of ['/a/../b', '/a/%2e%2e/b', '/a/.%2E', '/a/%2E./b?x', '/..']) expect(rawTargetHasDotDot(t), t).toBe(true);
    for (const t of ['/a/b', '/a/..b', '/a/...', '/a?path=../..', '/a/%2e%2e%2fb', '/a/./b']) expect(rawTargetHasDotDot(t), t).toBe(false);
  });
});
