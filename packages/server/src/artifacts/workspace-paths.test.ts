import { describe, expect, it } from 'vitest';
import { scopeToWorkspace } from './workspace-paths.js';
import { ROOT, type ArtifactPath } from './paths.js';

const p = (s: string) => s as ArtifactPath;

describe('artifact paths per workspace (MLflow _get_workspace_scoped_repo_path_if_enabled)', () => {
  it('changes nothing with workspaces off', () => {
    expect(scopeToWorkspace(p('workspaces/a/x'), undefined)).toBe('workspaces/a/x');
    expect(scopeToWorkspace(ROOT, undefined)).toBe('');
  });
  it('roots a workspace under workspaces/<name>/, leaving its own prefix as is', () => {
    expect(scopeToWorkspace(ROOT, 'team-a')).toBe('workspaces/team-a');
    expect(scopeToWorkspace(p('1/abc/model.pkl'), 'team-a')).toBe('workspaces/team-a/1/abc/model.pkl');
    expect(scopeToWorkspace(p('workspaces/team-a/x'), 'team-a')).toBe('workspaces/team-a/x');
    expect(scopeToWorkspace(p('workspaces/team-a'), 'team-a')).toBe('workspaces/team-a');
  });
  it('keeps the legacy root for default', () => {
    expect(scopeToWorkspace(ROOT, 'default')).toBe('');
    expect(scopeToWorkspace(p('models/x'), 'default')).toBe('models/x');
    expect(scopeToWorkspace(p('workspaces/default/x'), 'default')).toBe('workspaces/default/x');
  });
  it("refuses another workspace's tree, and workspaces/ without a name", () => {
    expect(() => scopeToWorkspace(p('workspaces/team-b/x'), 'team-a')).toThrow(
      "Artifact path targets workspace 'team-b' but the workspace specified in the request is 'team-a'.",
    );
    expect(() => scopeToWorkspace(p('workspaces/team-b/x'), 'default')).toThrow("Artifact path targets workspace 'team-b'");
    expect(() => scopeToWorkspace(p('workspaces'), 'default')).toThrow("Artifact paths prefixed with 'workspaces/' must include a workspace name.");
    expect(() => scopeToWorkspace(p('workspaces'), 'team-a')).toThrow("Artifact paths prefixed with 'workspaces/' must include a workspace name.");
    // A name that merely starts with "workspaces" is an ordinary path.
    expect(scopeToWorkspace(p('workspaces-old/x'), 'team-a')).toBe('workspaces/team-a/workspaces-old/x');
  });
});
