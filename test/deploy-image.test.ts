// The Dockerfile checked without a container engine: what it copies from the build context exists
// and is not in .dockerignore, its build stage has every file `npm run build` compiles, the image
// starts the CLI the package declares, and the pods of deploy/kubernetes run as the image's
// non-root user with the results volume writable for it. (Building the image itself needs Docker.)

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';

const repo = new URL('../../', import.meta.url).pathname;

interface Instruction {
  op: string;
  args: string;
  stage: number;
  line: number;
}

/** The Dockerfile's instructions (continuation lines joined, comments dropped), with their stage. */
function dockerfile(): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  let startLine = 0;
  readFileSync(join(repo, 'Dockerfile'), 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (pending === '' && (line === '' || line.startsWith('#'))) return;
      if (pending === '') startLine = i + 1;
      pending += `${line.replace(/\\$/, '')} `;
      if (line.endsWith('\\')) return;
      const [op = '', ...rest] = pending.trim().split(/\s+/);
      pending = '';
      if (op.toUpperCase() === 'FROM') stage++;
      out.push({ op: op.toUpperCase(), args: rest.join(' '), stage, line: startLine });
    });
  return out;
}

/** Sources a COPY takes from the build context (not `--from` another stage). */
function contextSources(copy: Instruction): string[] {
  const words = copy.args.split(/\s+/);
  if (words.some((w) => w.startsWith('--from='))) return [];
  return words.filter((w) => !w.startsWith('--')).slice(0, -1);
}

const dockerignore = readFileSync(join(repo, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim().replace(/^\/|\/$/g, ''))
  .filter((l) => l !== '' && !l.startsWith('#'));

test('every file the Dockerfile copies from the build context exists and is not ignored', () => {
  const copies = dockerfile().filter((i) => i.op === 'COPY');
  assert.ok(copies.length > 0);
  for (const copy of copies) {
    for (const source of contextSources(copy)) {
      const path = source.replace(/^\.\//, '').replace(/\/$/, '');
      assert.ok(
        existsSync(join(repo, path)),
        `Dockerfile:${copy.line}: COPY ${source}: no such file in the repository`,
      );
      const ignoredBy = dockerignore.find((p) => path === p || path.startsWith(`${p}/`));
      assert.equal(
        ignoredBy,
        undefined,
        `Dockerfile:${copy.line}: COPY ${source} is excluded by .dockerignore (${ignoredBy})`,
      );
    }
  }
});

test('the build stage has every directory npm run build compiles, before it builds', () => {
  const steps = dockerfile().filter((i) => i.stage === 0);
  const build = steps.findIndex((i) => i.op === 'RUN' && /npm run build|tsc -p tsconfig\.json/.test(i.args));
  assert.ok(build >= 0, 'the build stage runs npm run build');
  const copied = new Set(steps.slice(0, build).flatMap((i) => (i.op === 'COPY' ? contextSources(i) : [])));
  const tsconfig = JSON.parse(readFileSync(join(repo, 'tsconfig.json'), 'utf8')) as { include: string[] };
  assert.ok(copied.has('tsconfig.json'), 'tsconfig.json is copied');
  for (const pattern of tsconfig.include) {
    const dir = pattern.split('/')[0]!;
    assert.ok(copied.has(dir), `tsconfig.json includes ${pattern}, but the build stage does not COPY ${dir}`);
  }
});

test('the image starts the CLI the package declares, as a numeric non-root user', () => {
  const final = dockerfile().filter((i) => i.stage === Math.max(...dockerfile().map((s) => s.stage)));
  const workdir = final.findLast((i) => i.op === 'WORKDIR')?.args;
  const entrypoint = JSON.parse(final.findLast((i) => i.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
  const bin = (
    JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  ).bin.ivtfarm;
  assert.deepEqual(entrypoint, ['node', `${workdir}/${bin}`]);
  assert.ok(
    final.some((i) => i.op === 'COPY' && i.args.includes('--from=') && i.args.includes('dist/src')),
    'the compiled CLI is copied into the image',
  );
  const user = final.findLast((i) => i.op === 'USER')?.args ?? '';
  assert.match(
    user,
    /^[1-9]\d*(:\d+)?$/,
    `USER ${user}: a numeric uid other than 0 (runAsNonRoot can check it)`,
  );
});

test('the pods run as the image user, and the controller can write its results volume', () => {
  const user = dockerfile().findLast((i) => i.op === 'USER')!.args;
  const [uid, gid = uid] = user.split(':').map(Number);
  for (const file of ['controller.yaml', 'agents.yaml']) {
    const docs = parseAllDocuments(readFileSync(join(repo, 'deploy/kubernetes', file), 'utf8'));
    for (const doc of docs) {
      const object = doc.toJS() as { kind: string; spec: { template: { spec: Record<string, unknown> } } };
      if (object.kind !== 'Job') continue;
      const pod = object.spec.template.spec;
      const security = (pod.securityContext ?? {}) as Record<string, unknown>;
      assert.equal(security.runAsNonRoot, true, `${file}: runAsNonRoot`);
      assert.equal(security.runAsUser, uid, `${file}: runAsUser is the image's uid`);
      const mounts = (
        pod.containers as Array<{ volumeMounts?: Array<{ mountPath: string; readOnly?: boolean }> }>
      )
        .flatMap((c) => c.volumeMounts ?? [])
        .filter((m) => !m.readOnly);
      if (mounts.length > 0)
        assert.equal(security.fsGroup, gid, `${file}: fsGroup makes the writable volumes the user's`);
    }
  }
});
