#!/usr/bin/env node
// Copies docs/guide.md and docs/architecture.md into dist/apps/api/docs: the /guide and
// /architecture pages (src/docs) render them, and the image ships dist/ only. Run by
// scripts/build.mjs after SWC.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist', 'apps', 'api', 'docs');
mkdirSync(out, { recursive: true });
for (const doc of ['guide.md', 'architecture.md']) copyFileSync(join(root, 'docs', doc), join(out, doc));
