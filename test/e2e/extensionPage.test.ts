// The extension's page in the Extensions view, as a user first meets it: its README's images load.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { closeAll, launch, runCommand, screenshot, type VsCode } from './vscode';

let vs: VsCode;

describe('the extension page', { timeout: 240_000 }, () => {
  before(async () => {
    vs = await launch([]);
  });
  after(async () => {
    await closeAll();
  });

  test('shows the icon and the README with every image loaded', async () => {
    const { page } = vs;
    await runCommand(page, 'View: Show Extensions');
    // The view lists installed extensions first; the search box takes focus when it opens.
    await page.keyboard.type('@installed gradscope');
    const entry = page.locator('.extensions-list .monaco-list-row', { hasText: 'Gradscope' }).first();
    await entry.waitFor({ timeout: 60_000 });
    await entry.click();
    // The README is drawn in a webview (a nested frame) of the extension editor.
    let readme: Frame | undefined;
    for (let i = 0; i < 240 && !readme; i++) {
      for (const frame of page.frames())
        if (
          (await frame
            .locator('img[alt^="The diagnostics panel"]')
            .count()
            .catch(() => 0)) > 0
        )
          readme = frame;
      if (!readme) await page.waitForTimeout(250);
    }
    assert.ok(readme, 'the README with its first screenshot');
    const images = readme.locator('img');
    const count = await images.count();
    assert.ok(count >= 3, `${count} images`);
    for (let i = 0; i < count; i++) {
      const img = images.nth(i);
      await img.scrollIntoViewIfNeeded();
      await readme.waitForFunction((element) => (element as unknown as { complete: boolean }).complete, await img.elementHandle(), { timeout: 10_000 });
      const width = await img.evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth);
      assert.ok(width > 0, `image ${i} (${await img.getAttribute('alt')}) loaded`);
    }
    await readme.locator('img').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'extension-page');
  });
});
