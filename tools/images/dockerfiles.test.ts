import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ENGINE_IMAGE, type ImageDefinition } from '../../images/images.js';
import { renderDockerfile } from './dockerfile.js';
import { dockerfiles } from './dockerfiles.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('Dockerfiles are rendered from images/images.ts', () => {
  for (const [path, content] of dockerfiles()) {
    it(`${path} is what \`npm run gen\` renders (no drift)`, async () => {
      assert.equal(await readFile(`${root}${path}`, 'utf8'), content, `${path} drifted: run npm run gen`);
    });
  }

  it('a change to a definition changes its Dockerfile: packages, contents, user and entrypoint all reach it', () => {
    const base = renderDockerfile(ENGINE_IMAGE, []);
    const changed: ImageDefinition = {
      ...ENGINE_IMAGE,
      debianPackages: [...ENGINE_IMAGE.debianPackages, 'curl'],
      contents: [...ENGINE_IMAGE.contents, { kind: 'copy', from: 'schemas', to: '/app/schemas' }],
      user: '65533:65533',
      entrypoint: ['node', '/app/other.js'],
    };
    const text = renderDockerfile(changed, []);
    assert.notEqual(text, base);
    assert.match(text, /apt-get install -y --no-install-recommends git openssh-client ca-certificates curl/);
    assert.match(text, /^COPY schemas \/app\/schemas$/m);
    assert.match(text, /^USER 65533:65533$/m);
    assert.match(text, /^ENTRYPOINT \["node","\/app\/other.js"\]$/m);
  });
});
