// The instance pages, as an instance admin uses them (ADMIN_EMAIL, made
// one with `sigil admin grant` by the harness): the workspace list with
// its counts, creating a workspace whose join code is shown once and
// copied with the button, and the refusal everyone else gets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, bodyText, button, checkA11y, copySecret, field, fillLogin, launch, link, openPage, shoot, submit,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// row is the workspace list's row naming name.
const row = (page, name) => page.locator('table.list tbody tr', { hasText: name });

test('instance admin: list workspaces, create one, join code shown once', async () => {
  const admin = process.env.ADMIN_EMAIL;
  assert.ok(admin, 'ADMIN_EMAIL is not set');
  const { context, page, problems } = await openPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: SIGIL });
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, admin, PASSWORD);
  await page.goto(`${SIGIL}/dashboard/api-keys`);
  await link(page, 'Workspaces').click();
  await page.waitForURL(`${SIGIL}/dashboard/workspaces`);
  // Other test files add members to Acme as they run: at least its owner and this admin.
  const members = Number(await row(page, 'Acme').locator('td[data-label=Members]').innerText());
  assert.ok(members >= 2, `Acme has ${members} members`);

  const name = `Globex ${randomBytes(3).toString('hex')}`;
  await field(page, "New workspace's name").fill(name);
  const res = await submit(page, button(page, 'Create workspace'));
  assert.equal(res.status(), 201);
  const code = await copySecret(page, 'join-value');
  assert.match(code, /^jc_/);
  await shoot(page, 'dash-workspace-created');
  await checkA11y(page, 'dash-workspace-created');

  // The code works: its first member becomes the new workspace's owner.
  const signup = await fetch(`${SIGIL}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `first-${randomBytes(3).toString('hex')}@example.com`, password: PASSWORD, join_code: code }),
  });
  assert.equal(signup.status, 201, await signup.text());

  await link(page, 'Done').click();
  await page.waitForURL(`${SIGIL}/dashboard/workspaces`);
  assert.ok(!(await bodyText(page)).includes(code), 'the join code is shown again');
  assert.equal(await row(page, name).locator('td[data-label=Members]').innerText(), '1');
  assert.equal(await row(page, name).locator('td[data-label="API keys"]').innerText(), '0');
  await shoot(page, 'dash-workspaces');
  await checkA11y(page, 'dash-workspaces');
  assert.deepEqual(problems, []);
  await context.close();
});

test('everyone else: no Workspaces item, and the page refuses by URL', async () => {
  const owner = process.env.OWNER_EMAIL;
  assert.ok(owner, 'OWNER_EMAIL is not set');
  const { context, page } = await openPage(browser);
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, owner, PASSWORD);
  await page.goto(`${SIGIL}/dashboard/members`);
  assert.equal(await link(page, 'Workspaces').count(), 0);
  const res = await page.goto(`${SIGIL}/dashboard/workspaces`);
  assert.equal(res.status(), 403);
  await context.close();
});
