#!/usr/bin/env node
// `npm run docs`: writes the generated references (docs/configuration.md, docs/cli.md) from the
// build. test/docs/reference.test.ts fails when the committed files differ from what this writes.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GENERATED_DOCS, renderCliReference, renderConfigurationReference } from '../dist/docs/reference.js';

const root = resolve(import.meta.dirname, '..');
for (const [file, text] of [
  [GENERATED_DOCS.configuration, renderConfigurationReference()],
  [GENERATED_DOCS.cli, renderCliReference()],
]) {
  writeFileSync(join(root, file), text);
  console.log(file);
}
