import { describe, expect, it } from 'vitest';
import { filterSelectsRun, promptMarker, sourceModelName } from './registry-extras.js';

describe('registry extras (expected values from MLflow 3.17.2: _parse_model_uri, SearchModelVersionUtils)', () => {
  it('sourceModelName: the registered model a models:/ source names', () => {
    const cases: [string, string | undefined][] = [
      ['models:/m/1', 'm'],
      ['models:/m/Production', 'm'],
      ['models:/m/latest', 'm'],
      ['models:/m@champ', 'm'],
      ['models:/m-abc', undefined], // a logged model id
      ['models://host/m/1', 'm'],
      ['models://m/1', undefined],
      ['MODELS:/m/2', 'm'],
      ['models:/a@b@c', 'a@b'],
      ['s3://b/m', undefined],
      [' models:/x/1', 'x'],
      ['models:/m/1?x=y', 'm'],
      ['models:/m#f/1', 'm#f'],
      // _parse_model_uri raises for these: not checked here, the handler answers 400.
      ['models:/m/', undefined],
      ['models:/', undefined],
      ['models:/m/1/2', undefined],
      ['models:/m@', undefined],
      ['models:/ /1', undefined],
    ];
    for (const [uri, name] of cases) expect(sourceModelName(uri), uri).toBe(name);
  });

  it('filterSelectsRun: the run_id attribute, or a filter that does not parse', () => {
    const cases: [string, boolean][] = [
      ["run_id = 'a'", true],
      ["name = 'x'", false],
      ["run_id IN ('a','b')", true],
      ["tags.run_id = 'a'", false],
      ["name = 'x' AND run_id != 'b'", true],
      ['garbage ((', true],
      ["attribute.run_id = 'a'", true],
      ['', false],
    ];
    for (const [filter, selects] of cases) expect(filterSelectsRun(filter), filter).toBe(selects);
  });

  it('promptMarker: the last marker tag decides', () => {
    expect(promptMarker([])).toBeUndefined();
    expect(promptMarker([{ key: 'mlflow.prompt.is_prompt', value: 'TRUE' }])).toBe(true);
    expect(promptMarker([{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.is_prompt', value: 'no' }])).toBe(false);
    expect(promptMarker([{ key: 'other', value: 'true' }])).toBeUndefined();
  });
});
