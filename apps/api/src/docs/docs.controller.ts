import { Controller, Get, Header, NotFoundException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docPage, renderMarkdown } from './markdown-page';

/** The built copy (apps/api/build.mjs puts docs/*.md in dist/apps/api/docs), else the repository's (tests from source). */
function docsDir(): string {
  const candidates = [
    join(__dirname, '..', '..', 'docs'), // dist/apps/api/src/docs → dist/apps/api/docs
    join(__dirname, '..', '..', '..', '..', 'docs'), // apps/api/src/docs → docs
  ];
  return candidates.find((dir) => existsSync(join(dir, 'guide.md'))) ?? candidates[0];
}

const PAGES = { guide: { file: 'guide.md', title: 'Guide' }, architecture: { file: 'architecture.md', title: 'Architecture' } } as const;

/**
 * `/guide` (for subscribers) and `/architecture` (for operators and contributors): the markdown
 * in docs/, rendered once per process and served as a plain page — public, no JavaScript.
 */
@ApiExcludeController()
@Controller()
export class DocsController {
  private readonly cache = new Map<keyof typeof PAGES, string>();

  @Get('guide')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  guide(): string {
    return this.page('guide');
  }

  @Get('architecture')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  architecture(): string {
    return this.page('architecture');
  }

  private page(name: keyof typeof PAGES): string {
    let html = this.cache.get(name);
    if (!html) {
      const path = join(docsDir(), PAGES[name].file);
      if (!existsSync(path)) throw new NotFoundException(`${PAGES[name].file} is not part of this build`);
      html = docPage(PAGES[name].title, renderMarkdown(readFileSync(path, 'utf8')));
      this.cache.set(name, html);
    }
    return html;
  }
}
