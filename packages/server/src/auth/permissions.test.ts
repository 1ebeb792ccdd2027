import { describe, expect, it } from 'vitest';
import { MlflowError } from '../errors.js';
import {
  ACTION_NOT_DENIED,
  ALL_PERMISSIONS,
  authorize,
  canCreateInWorkspace,
  DEFAULT_POLICY,
  DENY,
  EDIT,
  floorPositivePermission,
  foldGrantsForKey,
  getPermission,
  governingPermission,
  listingRequirement,
  MANAGE,
  matches,
  maxPermission,
  NO_PERMISSIONS,
  READ,
  resourcePermission,
  USE,
  validatePermission,
  validatePermissionForResourceType,
  validateResourcePattern,
  validateResourceType,
  type Action,
  type Grant,
  type PermissionName,
  type PermissionPolicy,
  type Requirement,
} from './permissions.js';
import { LOAD_MLFLOW_PERMISSIONS, runPython, SKIP_PYTHON } from './python.test-support.js';

const g = (resourceType: string, resourcePattern: string, permission: string): Grant => ({ resourceType, resourcePattern, permission });
const caps = (p: { canRead: boolean; canUse: boolean; canUpdate: boolean; canDelete: boolean; canManage: boolean }) =>
  [p.canRead, p.canUse, p.canUpdate, p.canDelete, p.canManage].map((b) => (b ? 1 : 0)).join('');

describe('Permission levels (permissions.py)', () => {
  it.each([
    ['READ', '10000'],
    ['USE', '11000'],
    ['EDIT', '11100'],
    ['MANAGE', '11111'],
    ['NO_PERMISSIONS', '00000'],
    ['DENY', '00000'],
  ])('%s can read/use/update/delete/manage = %s', (name, expected) => {
    expect(caps(getPermission(name))).toBe(expected);
  });

  it.each([
    ['READ', 'EDIT', 'EDIT'],
    ['MANAGE', 'USE', 'MANAGE'],
    ['DENY', 'READ', 'READ'],
    ['NO_PERMISSIONS', 'DENY', 'NO_PERMISSIONS'],
    ['READ', 'READ', 'READ'],
    ['BOGUS', 'NO_PERMISSIONS', 'BOGUS'],
  ])('max_permission(%s, %s) = %s', (a, b, want) => expect(maxPermission(a, b)).toBe(want));

  it('validates with MLflow’s messages', () => {
    expect(() => validatePermission('WRITE')).toThrow(
      "Invalid permission 'WRITE'. Valid permissions are: ('READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS', 'DENY')",
    );
    expect(() => validateResourceType('model')).toThrow(/^Invalid resource type 'model'. Valid resource types are: \('assessment', 'experiment', /);
    expect(() => validatePermissionForResourceType('READ', 'workspace')).toThrow(
      "Invalid permission 'READ' for resource_type='workspace'. Workspace-wide grants accept only: ('MANAGE', 'USE').",
    );
    expect(() => validatePermissionForResourceType('NO_PERMISSIONS', 'registered_model')).toThrow(
      "Invalid permission 'NO_PERMISSIONS' for resource_type='registered_model'. Resource-level grants accept only: ('DENY', 'EDIT', 'MANAGE', 'READ', 'USE').",
    );
    expect(() => validateResourcePattern('m1', 'registered_model_version')).toThrow(
      "Invalid resource_pattern 'm1' for resource_type='registered_model_version'. This resource type supports only wildcard ('*') grants.",
    );
    expect(() => validateResourcePattern('m1', 'registered_model')).not.toThrow();
    try {
      validatePermission('x');
    } catch (e) {
      expect((e as MlflowError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('matches: "*" always; an id only for types with per-id grain', () => {
    expect(matches('*', 'registered_model', 'a')).toBe(true);
    expect(matches('a', 'registered_model', 'a')).toBe(true);
    expect(matches('a', 'registered_model_version', 'a')).toBe(false);
    expect(matches('a', 'nope', 'a')).toBe(false);
  });
});

describe('folds and the floor (requirements.py)', () => {
  const key = { resourceType: 'registered_model', resourceId: 'm' };
  it.each<[string, Grant[], PermissionName | undefined]>([
    ['no grant: silent', [], undefined],
    ['other type ignored', [g('prompt', 'm', 'MANAGE')], undefined],
    ['other name ignored', [g('registered_model', 'x', 'MANAGE')], undefined],
    ['highest wins', [g('registered_model', '*', 'READ'), g('registered_model', 'm', 'EDIT')], 'EDIT'],
    ['DENY wins over MANAGE', [g('registered_model', 'm', 'MANAGE'), g('registered_model', '*', 'DENY')], 'DENY'],
    ['workspace rows do not fold into a resource key', [g('workspace', '*', 'USE')], undefined],
  ])('%s', (_n, grants, want) => expect(foldGrantsForKey(grants, key)?.name).toBe(want));

  it.each<[PermissionName, PermissionName, PermissionName]>([
    ['READ', 'EDIT', 'EDIT'],
    ['MANAGE', 'READ', 'MANAGE'],
    ['DENY', 'MANAGE', 'DENY'],
    ['NO_PERMISSIONS', 'MANAGE', 'NO_PERMISSIONS'],
    ['USE', 'NO_PERMISSIONS', 'USE'],
  ])('floor(%s, default %s) = %s', (p, d, want) => expect(floorPositivePermission(getPermission(p), d).name).toBe(want));
});

describe('point permission on a registered model (_get_role_permission_or_default)', () => {
  const off: PermissionPolicy = { ...DEFAULT_POLICY, defaultPermission: 'READ' };
  const on: PermissionPolicy = { ...off, workspacesEnabled: true };
  const onGrant: PermissionPolicy = { ...on, grantDefaultWorkspaceAccess: true };
  it.each<[string, Grant[], PermissionPolicy, string | undefined, PermissionName]>([
    ['no grant, workspaces off: default_permission', [], off, 'default', 'READ'],
    ['no grant, default NO_PERMISSIONS', [], { ...off, defaultPermission: 'NO_PERMISSIONS' }, 'default', 'NO_PERMISSIONS'],
    ['no grant, workspaces on: NO_PERMISSIONS', [], on, 'default', 'NO_PERMISSIONS'],
    ['no grant, workspaces on, default ws granted', [], onGrant, 'default', 'READ'],
    ['no grant, workspaces on, other ws', [], onGrant, 'team', 'NO_PERMISSIONS'],
    ['direct EDIT', [g('registered_model', 'm', 'EDIT')], off, 'default', 'EDIT'],
    ['wildcard READ with default EDIT floors to EDIT', [g('registered_model', '*', 'READ')], { ...off, defaultPermission: 'EDIT' }, 'default', 'EDIT'],
    ['DENY is not floored', [g('registered_model', 'm', 'DENY')], off, 'default', 'DENY'],
    ['DENY beside MANAGE', [g('registered_model', 'm', 'MANAGE'), g('registered_model', '*', 'DENY')], off, 'default', 'DENY'],
    ['workspace admin beats DENY', [g('registered_model', 'm', 'DENY'), g('workspace', '*', 'MANAGE')], on, 'default', 'MANAGE'],
    ['workspace USE does not fold into the model', [g('workspace', '*', 'USE')], on, 'default', 'NO_PERMISSIONS'],
    ['unresolvable workspace (missing model), workspaces on', [g('registered_model', 'm', 'MANAGE')], on, undefined, 'NO_PERMISSIONS'],
    ['missing model, workspaces off: grants in the default workspace', [g('registered_model', 'm', 'MANAGE')], off, undefined, 'MANAGE'],
    ['prompt grant does not satisfy a model', [g('prompt', 'm', 'MANAGE')], off, 'default', 'READ'],
  ])('%s', (_n, grants, policy, ws, want) => {
    expect(resourcePermission(grants, 'registered_model', 'm', ws, policy).name).toBe(want);
  });

  it('create in workspace: off → always; on → workspace grant with can_use', () => {
    expect(canCreateInWorkspace([], 'w', off)).toBe(true);
    expect(canCreateInWorkspace([], 'w', on)).toBe(false);
    expect(canCreateInWorkspace([g('workspace', '*', 'USE')], 'w', on)).toBe(true);
    expect(canCreateInWorkspace([], 'default', onGrant)).toBe(false); // READ cannot use
    expect(canCreateInWorkspace([], 'default', { ...onGrant, defaultPermission: 'USE' })).toBe(true);
  });

  it('version operations: container READ plus the version tier, falling back to the container', () => {
    const ops = (grants: Grant[], action: Action) =>
      authorize(
        grants,
        [
          { resourceType: 'registered_model', resourceId: 'm', action: 'read' },
          { resourceType: 'registered_model_version', resourceId: '*', action, fallback: [{ resourceType: 'registered_model', resourceId: 'm' }] },
        ],
        'default',
        off,
      );
    expect(ops([g('registered_model', 'm', 'EDIT')], 'update')).toBe(true);
    expect(ops([g('registered_model', 'm', 'READ')], 'update')).toBe(false);
    // A version-tier grant decides on its own (tier override), up or down.
    expect(ops([g('registered_model', 'm', 'READ'), g('registered_model_version', '*', 'EDIT')], 'update')).toBe(true);
    expect(ops([g('registered_model', 'm', 'MANAGE'), g('registered_model_version', '*', 'READ')], 'delete')).toBe(false);
    expect(ops([g('registered_model', 'm', 'MANAGE'), g('registered_model_version', '*', 'DENY')], 'read')).toBe(false);
    expect(authorize([], [listingRequirement('registered_model', 'm')], undefined, off)).toBe(false);
  });
});

describe.skipIf(SKIP_PYTHON)('differential against MLflow 3.17.2’s requirements.py', () => {
  it('fold, governing permission and requirement_satisfied agree on random grant sets', () => {
    const types = ['registered_model', 'registered_model_version', 'workspace', 'prompt'];
    const patterns = ['*', 'm', 'n'];
    const levels = Object.keys(ALL_PERMISSIONS);
    const actions: Action[] = ['read', 'use', 'update', 'delete', 'manage', 'create', ACTION_NOT_DENIED];
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const cases = Array.from({ length: 400 }, () => {
      const grants = Array.from({ length: rnd(5) }, () => g(types[rnd(4)]!, patterns[rnd(3)]!, levels[rnd(levels.length)]!));
      const requirement: Requirement = {
        resourceType: types[rnd(2)]!,
        resourceId: ['m', '*', undefined][rnd(3)],
        action: actions[rnd(actions.length)]!,
        fallback: rnd(2) ? [{ resourceType: 'registered_model', resourceId: 'm' }, { resourceType: 'workspace', resourceId: '*' }] : [],
      };
      const defaultPermission = ['READ', 'NO_PERMISSIONS', 'EDIT'][rnd(3)] as PermissionName;
      const workspacesEnabled = rnd(2) === 1;
      // MLflow's _absent_permission: default_permission with workspaces off, NO_PERMISSIONS with them on.
      return { grants, requirement, defaultPermission, workspacesEnabled, absent: workspacesEnabled ? 'NO_PERMISSIONS' : defaultPermission };
    });
    const py = runPython<{ governing: string; action: string; satisfied: boolean; folds: (string | null)[] }[]>(
      `${LOAD_MLFLOW_PERMISSIONS}
import json, collections
Row = collections.namedtuple("Row", "resource_type resource_pattern permission")
out = []
for c in json.load(sys.stdin):
    grants = [Row(x["resourceType"], x["resourcePattern"], x["permission"]) for x in c["grants"]]
    r = c["requirement"]
    req = requirements.Requirement(r["resourceType"], r.get("resourceId"), r["action"], tuple((f["resourceType"], f["resourceId"]) for f in r["fallback"]))
    keys = requirements.requirement_to_grant_load_keys(req)
    folded = {k: requirements.fold_grants_for_key(grants, k) for k in keys}
    absent = permissions.get_permission(c["absent"])
    p, a = requirements.governing_permission_and_action(req, folded, c["defaultPermission"], absent)
    out.append({"governing": p.name, "action": a, "satisfied": requirements.requirement_satisfied(req, folded, c["defaultPermission"], absent),
                "folds": [None if folded[k] is None else folded[k].name for k in keys]})
print(json.dumps(out))
`,
      cases,
    );
    cases.forEach((c, i) => {
      const at = (k: { resourceType: string; resourceId: string }) => foldGrantsForKey(c.grants, k);
      const mine = governingPermission(c.requirement, at, c.defaultPermission, getPermission(c.absent));
      expect({ governing: mine.permission.name, action: mine.action }, JSON.stringify(c)).toEqual({ governing: py[i]!.governing, action: py[i]!.action });
      const policy: PermissionPolicy = { ...DEFAULT_POLICY, defaultPermission: c.defaultPermission, workspacesEnabled: c.workspacesEnabled };
      if (!c.grants.some((x) => x.resourceType === 'workspace' && x.resourcePattern === '*' && x.permission === 'MANAGE')) {
        expect(authorize(c.grants, [c.requirement], 'w', policy), JSON.stringify(c)).toBe(py[i]!.satisfied);
      }
    });
  });
});

it('exports the six levels', () => {
  expect([READ, USE, EDIT, MANAGE, NO_PERMISSIONS, DENY].map((p) => p.name)).toEqual(Object.keys(ALL_PERMISSIONS));
});
