/** Which locations are ours, and the URIs each download-URI mode hands out (no S3 needed here). */
import { describe, expect, it } from 'vitest';
import { ArtifactLocations, splitUri } from './download-uri.js';
import { LocalArtifactStore } from './local.js';
import { S3ArtifactStore } from './s3.js';

const local = new LocalArtifactStore('/nonexistent/artifacts');
const s3 = new S3ArtifactStore({ bucket: 'bkt', prefix: 'pre/fix', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' });

describe('splitUri', () => {
  it('splits like urlparse', () => {
    expect(splitUri('mlflow-artifacts:/a/b')).toMatchObject({ scheme: 'mlflow-artifacts', netloc: '', path: '/a/b' });
    expect(splitUri('HTTP://h:1/p?q#f')).toMatchObject({ scheme: 'http', netloc: 'h:1', path: '/p', query: 'q', fragment: 'f' });
    expect(splitUri('s3://bkt')).toMatchObject({ scheme: 's3', netloc: 'bkt', path: '' });
  });
});

describe('ArtifactLocations.resolve', () => {
  const loc = new ArtifactLocations({ store: s3, mode: 'proxy', publicUrl: 'https://reg.example.com/ml/', presignExpiresSec: 60 });

  it('recognises our sources', () => {
    expect(loc.resolve('mlflow-artifacts:/1/r/artifacts/model')).toBe('1/r/artifacts/model');
    expect(loc.resolve('mlflow-artifacts:/')).toBe('');
    expect(loc.resolve('mlflow-artifacts://reg.example.com/1/m')).toBe('1/m');
    expect(loc.resolve('mlflow-artifacts://reg.example.com:443/1/m')).toBe('1/m');
    expect(loc.resolve('https://reg.example.com/ml/api/2.0/mlflow-artifacts/artifacts/1/m')).toBe('1/m');
    expect(loc.resolve('https://REG.example.com:443/ml/ajax-api/2.0/mlflow-artifacts/artifacts/1%2Fm')).toBe('1/m');
    expect(loc.resolve('s3://bkt/pre/fix/1/m')).toBe('1/m');
    expect(loc.resolve('s3://bkt/pre/fix')).toBe('');
  });

  it('ignores everything else, and unsafe paths', () => {
    for (const uri of [
      'mlflow-artifacts://other.example.com/1/m',
      'http://reg.example.com/ml/api/2.0/mlflow-artifacts/artifacts/1/m', // other scheme → other port
      'https://reg.example.com/api/2.0/mlflow-artifacts/artifacts/1/m', // missing the /ml prefix
      'https://reg.example.com/ml/api/2.0/mlflow/registered-models/get',
      's3://bkt/pre/fixture/1',
      's3://other/pre/fix/1',
      'runs:/abc/model',
      'models:/m/1',
      'mlflow-artifacts:/1/../../etc',
      'mlflow-artifacts:/1/%252E%252E',
      'mlflow-artifacts:/1/m?x=1',
      'mlflow-artifacts:/1/m#frag',
      '/abs/local/path',
    ]) {
      expect(loc.resolve(uri), uri).toBeUndefined();
    }
  });

  it('does not treat s3:// as ours on the local store', () => {
    const l = new ArtifactLocations({ store: local, mode: 'proxy', publicUrl: 'https://reg.example.com', presignExpiresSec: 60 });
    expect(l.resolve('s3://bkt/pre/fix/1/m')).toBeUndefined();
    expect(l.resolve('mlflow-artifacts:/1/m')).toBe('1/m');
  });
});

describe('ArtifactLocations.downloadUri', () => {
  it('source mode returns the location untouched', async () => {
    const l = new ArtifactLocations({ store: local, mode: 'source', publicUrl: 'https://reg.example.com', presignExpiresSec: 60 });
    expect(await l.downloadUri('mlflow-artifacts:/1/m')).toBe('mlflow-artifacts:/1/m');
  });

  it('proxy mode builds the absolute proxy URL, with the path as MLflow clients build it (not re-encoded)', async () => {
    const l = new ArtifactLocations({ store: local, mode: 'proxy', publicUrl: 'https://reg.example.com/', presignExpiresSec: 60 });
    expect(await l.downloadUri('mlflow-artifacts:/1/my%20model')).toBe('https://reg.example.com/api/2.0/mlflow-artifacts/artifacts/1/my model');
    expect(await l.downloadUri('mlflow-artifacts:/')).toBe('https://reg.example.com/api/2.0/mlflow-artifacts/artifacts');
    expect(await l.downloadUri('runs:/r/model')).toBe('runs:/r/model');
  });
});
