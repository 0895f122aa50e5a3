// The first-run setup page (run by TestFirstRun on a sigil without
// accounts, with the link it logged in SETUP_URL): a dead link explains
// how to get a new one; the live one's form refuses a short password
// inline, then creates the workspace and its admin, who lands on the
// dashboard's workspace list; after that the link is dead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, bodyText, button, checkA11y, expectAlert, field, launch, openPage, shoot, submit,
} from '../tests/helpers.mjs';

const SETUP_URL = process.env.SETUP_URL;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('first run: the setup link makes the first workspace and its admin', async () => {
  assert.ok(SETUP_URL, 'SETUP_URL is not set: run this file with go test ./e2e/browser/ -run TestFirstRun');
  const { context, page, problems } = await openPage(browser);

  let res = await page.goto(`${SIGIL}/setup?token=st_not-the-right-one`);
  assert.equal(res.status(), 404);
  assert.match(await bodyText(page), /This setup link no longer works[\s\S]*restart sigil serve/);
  await shoot(page, 'setup-dead-link');
  await checkA11y(page, 'setup-dead-link');

  res = await page.goto(SETUP_URL);
  assert.equal(res.status(), 200);
  await field(page, 'Workspace name').fill('Acme');
  await field(page, 'Email').fill('root@example.com');
  await shoot(page, 'setup');
  await checkA11y(page, 'setup');

  await field(page, 'Password').fill('short');
  res = await submit(page, button(page, 'Create workspace and account'));
  assert.equal(res.status(), 400);
  await expectAlert(page, /8 to 256 characters/);
  assert.equal(await field(page, 'Workspace name').inputValue(), 'Acme');
  await shoot(page, 'setup-error');
  await checkA11y(page, 'setup-error');

  await field(page, 'Password').fill(PASSWORD);
  res = await submit(page, button(page, 'Create workspace and account'));
  assert.equal(res.status(), 200);
  assert.equal(page.url(), `${SIGIL}/dashboard/workspaces?welcome=1`);
  const text = await bodyText(page);
  assert.match(text, /Sigil is set up/);
  assert.match(text, /Acme/);
  await shoot(page, 'setup-done');
  await checkA11y(page, 'setup-done');

  res = await page.goto(SETUP_URL);
  assert.equal(res.status(), 404, 'the used link still works');
  assert.deepEqual(problems, []);
  await context.close();
});
