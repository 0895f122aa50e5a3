// The dashboard's access rules as a person meets them: a lifetime saved
// in the settings applies to the next login, a member finds no admin page
// (not by typing its address either), and a browser session ended from
// another one is signed out at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, bodyText, button, checkA11y, field, fillLogin, launch, link, openPage, shoot, signUp, submit, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// signIn opens a fresh browser context signed in as email.
async function signIn(email) {
  const opened = await openPage(browser);
  await opened.page.goto(`${SIGIL}/login`);
  await fillLogin(opened.page, email, PASSWORD);
  return opened;
}

// apiLogin is POST /v1/auth/login with email and password (API.md §4).
async function apiLogin(email) {
  const res = await fetch(`${SIGIL}/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

test('a token lifetime changed in the settings applies to the next login', async () => {
  const owner = process.env.OWNER_EMAIL;
  const { page, problems, context } = await signIn(owner);
  await page.goto(`${SIGIL}/dashboard/settings`);
  const ttl = field(page, 'Access token lifetime');
  const before = await ttl.inputValue();
  try {
    await ttl.fill('7m');
    assert.equal((await submit(page, button(page, 'Save settings'))).status(), 200);
    assert.equal((await apiLogin(owner)).expires_in, 420);
  } finally {
    await page.goto(`${SIGIL}/dashboard/settings`);
    await field(page, 'Access token lifetime').fill(before);
    await submit(page, button(page, 'Save settings'));
  }
  assert.notEqual((await apiLogin(owner)).expires_in, 420);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a member sees no admin pages, also when typing their address', async () => {
  const email = uniqueEmail('member');
  await signUp(email);
  const { page, problems, context } = await signIn(email);
  await page.goto(`${SIGIL}/dashboard`);
  const nav = await page.getByRole('navigation', { name: 'Dashboard' }).innerText();
  for (const name of ['Members', 'Apps', 'Audit log', 'Settings']) {
    assert.ok(!nav.includes(name), `a member's navigation offers ${name}: ${nav}`);
  }
  for (const path of ['/dashboard/members', '/dashboard/apps', '/dashboard/audit', '/dashboard/settings']) {
    const res = await page.goto(SIGIL + path);
    assert.equal(res.status(), 403, path);
    assert.match(await bodyText(page), /You can't open this page[\s\S]*Ask an owner or admin/, path);
    assert.doesNotMatch(await bodyText(page), /owner@acme\.test|join code/i, path);
  }
  await shoot(page, 'dash-forbidden');
  await checkA11y(page, 'dash-forbidden');
  await link(page, 'Back to the dashboard').click();
  await page.waitForURL(`${SIGIL}/dashboard/api-keys`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a second browser session ended from the sessions page is refused at once', async () => {
  const email = uniqueEmail('twice');
  await signUp(email);
  const here = await signIn(email);
  const there = await signIn(email);
  await there.page.goto(`${SIGIL}/dashboard/api-keys`);
  assert.equal(there.page.url(), `${SIGIL}/dashboard/api-keys`);

  await here.page.goto(`${SIGIL}/dashboard/sessions`);
  // The other browser's row; signing up through the API started a session too.
  const ends = here.page.locator('tr', { hasText: 'Browser' }).filter({ hasNotText: 'this browser' })
    .getByRole('button', { name: /^End session / });
  assert.equal(await ends.count(), 1);
  await submit(here.page, ends);
  assert.match(await bodyText(here.page), /Session ended/);

  const res = await there.page.goto(`${SIGIL}/dashboard/api-keys`);
  assert.equal(there.page.url(), `${SIGIL}/login`);
  assert.equal(res.status(), 200);
  await here.page.goto(`${SIGIL}/dashboard/sessions`);
  assert.equal(here.page.url(), `${SIGIL}/dashboard/sessions`, 'ending the other session signed this one out');
  assert.deepEqual([...here.problems, ...there.problems], []);
  await here.context.close();
  await there.context.close();
});
