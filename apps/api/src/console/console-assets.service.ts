import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { type AppConfig, contactEmail } from '@mz/contracts';
import { APP_CONFIG, LOGGER } from '@mz/platform';
import type { Logger } from 'pino';
import { assertManifest, type ConsoleManifest, renderShell } from './console-shell';

/** Where apps/console/build.mjs writes the bundle, seen from the compiled or the source file. */
export const CONSOLE_WEB_DIR = Symbol('CONSOLE_WEB_DIR');

function defaultWebDir(): string {
  const candidates = [
    join(__dirname, '..', '..', '..', 'console'), // dist/apps/api/src/console → dist/apps/console
    join(__dirname, '..', '..', '..', '..', 'dist', 'apps', 'console'), // apps/api/src/console (tests from source)
  ];
  return candidates.find((dir) => existsSync(join(dir, 'manifest.json'))) ?? candidates[0];
}

const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/;

/**
 * The built console: the manifest, the HTML shell made from it, and the allowlist of files under
 * /assets (only names that exist in the build directory are ever served, so no path from a URL
 * reaches the filesystem). Loaded once; if the bundle is missing (source not built), the shell
 * answers 503 with a hint instead of the api failing to start.
 */
@Injectable()
export class ConsoleAssets {
  readonly webDir: string;
  private shellHtml: string | null = null;
  private files = new Map<string, string>();
  private problem: string | null = null;

  constructor(
    @Optional() @Inject(CONSOLE_WEB_DIR) webDir?: string,
    @Optional() @Inject(LOGGER) private readonly logger?: Logger,
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
  ) {
    this.webDir = webDir ?? defaultWebDir();
    this.load();
  }

  private load(): void {
    try {
      const manifest: ConsoleManifest = assertManifest(JSON.parse(readFileSync(join(this.webDir, 'manifest.json'), 'utf8')));
      const assetsDir = join(this.webDir, 'assets');
      this.files = new Map(
        readdirSync(assetsDir)
          .filter((name) => ASSET_NAME.test(name))
          .map((name) => [name, join(assetsDir, name)]),
      );
      for (const url of Object.values(manifest)) {
        if (url && !this.files.has(url.slice('/assets/'.length))) throw new Error(`manifest names a missing file: ${url}`);
      }
      this.shellHtml = renderShell(manifest, { contactEmail: this.config ? contactEmail(this.config) : null });
      this.problem = null;
    } catch (err) {
      this.problem = `web console not built (${(err as Error).message}); run "npm run build"`;
      this.logger?.warn({ webDir: this.webDir }, this.problem);
    }
  }

  /** The shell, or null when the bundle is missing (tries again, so a later build is picked up). */
  shell(): string | null {
    if (!this.shellHtml) this.load();
    return this.shellHtml;
  }

  missingReason(): string {
    return this.problem ?? 'web console not built';
  }

  /** Absolute path of a built asset, or null for anything not in the build. */
  assetPath(name: string): string | null {
    if (!ASSET_NAME.test(name)) return null;
    return this.files.get(name) ?? null;
  }
}
