// deploy/kubernetes/ checked without a cluster: every object against the Kubernetes OpenAPI
// schemas (kubernetes-models), the kustomization's references, the fleet size agreeing in both
// Jobs, the flags the pods pass existing in the CLI, and the sample scenario loading.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { validateScenarioFile } from '../src/scenario/index.js';

const root = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
const cli = new URL('../src/cli.js', import.meta.url).pathname;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
}

function objectsOf(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(root, file), 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
    return doc.toJS() as K8sObject;
  });
}

const manifests = readdirSync(root).filter(
  (f) => f.endsWith('.yaml') && !['kustomization.yaml', 'scenario.yaml', 'fleet.yaml'].includes(f),
);

/** The kubernetes-models class for an object: `batch/v1` Job → kubernetes-models/batch/v1 Job. */
async function modelOf(object: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const module = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<string, unknown>;
  const model = module[object.kind];
  assert.ok(model, `no schema for ${object.apiVersion} ${object.kind}`);
  return model as new (
    data: unknown,
  ) => { validate(): void };
}

function job(name: string, file: string): K8sObject {
  const found = objectsOf(file).find((o) => o.kind === 'Job' && o.metadata.name === name);
  assert.ok(found, `${file} has Job ${name}`);
  return found;
}

function containers(object: K8sObject): Container[] {
  const template = object.spec?.template as { spec: { containers: Container[] } };
  return template.spec.containers;
}

describe('deploy/kubernetes', () => {
  test('every object validates against the Kubernetes OpenAPI schemas', async () => {
    const objects = manifests.flatMap((f) => objectsOf(f).map((o) => ({ file: f, o })));
    assert.ok(objects.length >= 5);
    for (const { file, o } of objects) {
      const Model = await modelOf(o);
      assert.doesNotThrow(() => new Model(o).validate(), `${file}: ${o.kind} ${o.metadata.name}`);
    }
    const agents = job('ivtfarm-agents', 'agents.yaml');
    assert.equal(agents.spec?.completionMode, 'Indexed');
    const kinds = objects.map(({ o }) => o.kind).sort();
    assert.deepEqual(kinds, ['Job', 'Job', 'PersistentVolumeClaim', 'Pod', 'Service']);
  });

  test('the schemas catch a broken manifest (the check can fail)', async () => {
    const broken = structuredClone(job('ivtfarm-agents', 'agents.yaml'));
    (broken.spec as { completionMode: unknown }).completionMode = 7;
    const Model = await modelOf(broken);
    assert.throws(() => new Model(broken).validate(), /completionMode/);
  });

  test('the kustomization names files that exist, and its fleet patch keeps both Jobs in step', () => {
    const kustomization = objectsOf('kustomization.yaml')[0] as unknown as {
      resources: string[];
      patches: Array<{ path: string }>;
      configMapGenerator: Array<{ name: string; files: string[] }>;
    };
    const files = [
      ...kustomization.resources,
      ...kustomization.patches.map((p) => p.path),
      ...kustomization.configMapGenerator.flatMap((g) => g.files),
    ];
    for (const f of files) assert.ok(existsSync(join(root, f)), `${f} exists`);
    assert.equal(kustomization.configMapGenerator[0]?.name, 'ivtfarm-scenario');

    for (const file of ['fleet.yaml', 'agents.yaml', 'controller.yaml']) {
      const agents = objectsOf(file).find((o) => o.metadata.name === 'ivtfarm-agents');
      const controller = objectsOf(file).find((o) => o.metadata.name === 'ivtfarm-controller');
      const count =
        controller && containers(controller)[0]?.env?.find((e) => e.name === 'AGENT_COUNT')?.value;
      if (agents) assert.equal(agents.spec?.completions, agents.spec?.parallelism, `${file}`);
      if (agents && count) assert.equal(String(agents.spec?.completions), count, `${file}`);
    }
    const patchedCount = containers(job('ivtfarm-controller', 'fleet.yaml'))[0]?.env?.[0]?.value;
    assert.equal(String(job('ivtfarm-agents', 'fleet.yaml').spec?.completions), patchedCount);
  });

  test('kubectl kustomize renders the fleet: patched size, image, scenario ConfigMap, all valid', async (t) => {
    const rendered = spawnSync('kubectl', ['kustomize', root], { encoding: 'utf8', timeout: 60_000 });
    if (rendered.error) {
      t.skip('kubectl is not installed here');
      return;
    }
    assert.equal(rendered.status, 0, rendered.stderr);
    const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as K8sObject);
    for (const o of objects) {
      const Model = await modelOf(o);
      assert.doesNotThrow(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`);
    }
    const byName = (kind: string, prefix: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name.startsWith(prefix));
    const configMap = byName('ConfigMap', 'ivtfarm-scenario');
    assert.ok(configMap, 'the scenario ConfigMap');
    const controller = byName('Job', 'ivtfarm-controller')!;
    const agents = byName('Job', 'ivtfarm-agents')!;
    const template = controller.spec?.template as {
      spec: {
        volumes: Array<{ configMap?: { name: string } }>;
        containers: Container[];
      };
    };
    assert.equal(template.spec.volumes.find((v) => v.configMap)?.configMap?.name, configMap.metadata.name);
    const count = template.spec.containers[0]?.env?.find((e) => e.name === 'AGENT_COUNT')?.value;
    assert.equal(String(agents.spec?.completions), count);
    for (const job of [controller, agents])
      assert.match(String(containers(job)[0]?.image), /^registry\.example\.internal\/ivtfarm:/);
  });

  test('the pods pass flags the CLI knows, and the sample scenario loads', () => {
    for (const [name, file, command] of [
      ['ivtfarm-controller', 'controller.yaml', 'run'],
      ['ivtfarm-agents', 'agents.yaml', 'agent'],
    ] as const) {
      const args = containers(job(name, file))[0]?.args ?? [];
      assert.equal(args[0], command);
      const help = spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' }).stdout;
      for (const flag of args.filter((a) => a.startsWith('--')))
        assert.ok(help.includes(flag), `ivtfarm ${command} has ${flag}`);
    }
    process.env.IVT_PASSWORD ??= 'only-for-validation';
    const result = validateScenarioFile(join(root, 'scenario.yaml'));
    assert.ok(result.ok, JSON.stringify(result.ok ? null : result.errors));
  });
});
