import { describe, expect, it } from 'vitest';
import { normalizeWorkspace, validateWorkspaceName } from './names.js';

describe('workspace names (MLflow WorkspaceNameValidator)', () => {
  it('accepts Kubernetes-style names of 2–63 characters', () => {
    for (const n of ['ab', 'team-a', 'a1', '0-9', 'x'.repeat(63)]) expect(() => validateWorkspaceName(n)).not.toThrow();
  });
  it.each([
    ['a', "Workspace name 'a' must be between 2 and 63 characters."],
    ['x'.repeat(64), `Workspace name '${'x'.repeat(64)}' must be between 2 and 63 characters.`],
    ['Ab', "Workspace name 'Ab' must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase alphanumeric with optional internal hyphens)."],
    ['a-', "Workspace name 'a-' must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase alphanumeric with optional internal hyphens)."],
    ['a_b', "Workspace name 'a_b' must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase alphanumeric with optional internal hyphens)."],
    ['static-files', "Workspace name 'static-files' is reserved and cannot be used."],
    ['ajax-api', "Workspace name 'ajax-api' is reserved and cannot be used."],
  ])('refuses %j', (name, message) => {
    expect(() => validateWorkspaceName(name)).toThrow(message);
  });
  it('normalises the header: trimmed, blank is absent', () => {
    expect(normalizeWorkspace(undefined)).toBeUndefined();
    expect(normalizeWorkspace('  ')).toBeUndefined();
    expect(normalizeWorkspace(' team-a\t')).toBe('team-a');
  });
});
