import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fillBody, fillRequest, TemplateFillError } from '../src/api/actions.js';
import { captureValues, JsonPathError, parseJsonPath } from '../src/api/capture.js';
import { Redactor } from '../src/api/redact.js';
import { formatProblem, parseScenario } from '../src/scenario/index.js';

/** The problems of a scenario text, as `validate` prints them. */
function loadScenarioText(text: string): string[] {
  return parseScenario(text, { env: {} }).problems.map(formatProblem);
}

describe('api templates, captures and redaction', () => {
  test('a body placeholder alone keeps its type; in a URL values are URL-encoded', () => {
    const vars = { login_code: 'cam/1 ü', channel: 3, quality: 'sd' };
    assert.deepEqual(fillBody({ channel: '{channel}', name: 'ch-{channel}', list: ['{quality}'] }, vars), {
      channel: 3,
      name: 'ch-3',
      list: ['sd'],
    });
    const r = fillRequest(
      {
        method: 'POST',
        url: '/api/cameras/{login_code}/channels/{channel}',
        headers: { 'X-Q': '{quality}' },
        body: { q: '{quality}' },
      },
      vars,
      'http://127.0.0.1:9',
    );
    assert.equal(r.url, 'http://127.0.0.1:9/api/cameras/cam%2F1%20%C3%BC/channels/3');
    assert.equal(r.headers['x-q'], 'sd');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.body, '{"q":"sd"}');
    assert.throws(() => fillBody('{nope}', vars), TemplateFillError);
  });

  test('JSON paths: dots, brackets, quoted names; a path that finds nothing is reported missing', () => {
    assert.deepEqual(parseJsonPath("$.data.items[2]['a-b']"), ['data', 'items', 2, 'a-b']);
    assert.throws(() => parseJsonPath('token'), JsonPathError);
    assert.throws(() => parseJsonPath('$.a..b'), JsonPathError);
    const { values, missing } = captureValues(
      { data: { id: 'x1', n: 4, obj: {} } },
      { id: '$.data.id', n: '$.data.n', obj: '$.data.obj', gone: '$.nothing' },
    );
    assert.deepEqual(values, { id: 'x1', n: 4 });
    assert.deepEqual(missing, ['obj', 'gone']);
  });

  test('a redactor hides every secret it knows, wherever it appears in a message', () => {
    const r = new Redactor();
    r.addLeaves({ user: 'operator', password: 's3cret-pw', nested: ['tok-123456'] });
    assert.equal(r.redact('login operator:s3cret-pw failed, tok-123456'), 'login ***:*** failed, ***');
  });

  test('an unknown placeholder deep in a body names the field it is in', () => {
    const problems = loadScenarioText(`target: ws://127.0.0.1:9/ivc
devices: { count: 1, password: x }
api:
  base_url: http://127.0.0.1:9
  actions:
    open_live:
      url: /live
      body:
        stream: { channel: "{chanel}" }
platform:
  publish: { count: 1 }
`);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0]!,
      /:9:\d+\s+api\.actions\.open_live\.body\.stream\.channel\s+unknown placeholder \{chanel\} \(did you mean \{channel\}\?\)/,
    );
  });
});
