// The hosted pages one by one (API.md §11): sign-up and the emailed
// verification, login, password reset by mail, logout, and the error
// page; each screenshotted at desktop and phone sizes, checked for
// sideways scrolling at 375 px and against WCAG 2.1 AA with axe-core in
// both colour schemes (keyboard.test.mjs signs in with the keyboard).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, SPA, JOIN_CODE, alerts, bodyText, button, checkA11y, expectAlert, field, fillLogin, launch, link,
  mailLink, openPage, shoot, signUp, submit, uniqueEmail,
} from './helpers.mjs';

// What the login page's alert says to a wrong password.
const WRONG_PASSWORD = /not valid|incorrect|(don't|do not) match/i;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('sign-up creates an account whose emailed link verifies the address', async () => {
  const { page, problems } = await openPage(browser);
  const email = uniqueEmail('signup');
  const res = await page.goto(`${SIGIL}/signup`);
  assert.equal(res.status(), 200);
  await shoot(page, 'signup');
  await checkA11y(page, 'signup');

  await field(page, 'Email').fill(email);
  await field(page, 'Password').fill(PASSWORD);
  await field(page, 'Join code').fill(JOIN_CODE);
  const created = await submit(page, button(page, 'Create account'));
  assert.ok(created.status() < 400, `sign-up answered ${created.status()}`);
  assert.deepEqual(await alerts(page), []);
  const left = new URL(page.url()).pathname !== '/signup';
  assert.ok(left || await button(page, 'Create account').count() === 0,
    `still on the sign-up form: ${await bodyText(page)}`);

  await page.goto(await mailLink(email, '/verify-email'));
  await shoot(page, 'verify');
  await checkA11y(page, 'verify');
  const verify = button(page, 'Verify email');
  await verify.click();
  await verify.waitFor({ state: 'detached' });
  assert.match(await bodyText(page), /verified/i);
  assert.deepEqual(await alerts(page), []);
  await shoot(page, 'verified');
  await checkA11y(page, 'verified');
  assert.deepEqual(problems, []);
});

test('login refuses a wrong password and signs in with the right one', async () => {
  const email = uniqueEmail('login');
  await signUp(email);
  const { page, problems } = await openPage(browser);
  const res = await page.goto(`${SIGIL}/login`);
  assert.equal(res.status(), 200);
  const href = async (name) => new URL(await link(page, name).getAttribute('href'), page.url()).pathname;
  assert.equal(await href('Forgot password?'), '/forgot-password');
  assert.equal(await href('Create an account'), '/signup');
  await shoot(page, 'login');
  await checkA11y(page, 'login');

  await fillLogin(page, email, 'not the password');
  await expectAlert(page, WRONG_PASSWORD);
  await shoot(page, 'login-error');
  await checkA11y(page, 'login-error');

  const ok = await fillLogin(page, email, PASSWORD);
  assert.equal(ok.status(), 200);
  assert.deepEqual(await alerts(page), []);
  assert.deepEqual(problems, []);
});

test('forgot password mails a link that sets a new password', async () => {
  const email = uniqueEmail('reset');
  const newPassword = 'a brand new passphrase';
  await signUp(email);
  const { page, problems } = await openPage(browser);
  await page.goto(`${SIGIL}/forgot-password`);
  await shoot(page, 'forgot');
  await checkA11y(page, 'forgot');
  await field(page, 'Email').fill(email);
  await button(page, 'Send reset link').click();
  await page.getByText(/check your (e-?mail|inbox)|sent|if an account exists/i).first().waitFor();
  assert.deepEqual(await alerts(page), []);
  await shoot(page, 'forgot-sent');
  await checkA11y(page, 'forgot-sent');

  await page.goto(await mailLink(email, '/reset-password'));
  await shoot(page, 'reset');
  await checkA11y(page, 'reset');
  await field(page, 'New password').fill(newPassword);
  const set = button(page, 'Set new password');
  await set.click();
  await set.waitFor({ state: 'detached' });
  assert.match(await bodyText(page), /password (has been |was |is )?(changed|updated|reset|set|saved)|new password (is )?(set|saved)/i);
  assert.deepEqual(await alerts(page), []);
  await shoot(page, 'reset-done');
  await checkA11y(page, 'reset-done');
  assert.deepEqual(problems, []);

  const fresh = await openPage(browser);
  await fresh.page.goto(`${SIGIL}/login`);
  await fillLogin(fresh.page, email, PASSWORD);
  await expectAlert(fresh.page, WRONG_PASSWORD);
  const ok = await fillLogin(fresh.page, email, newPassword);
  assert.equal(ok.status(), 200);
  assert.deepEqual(await alerts(fresh.page), []);
});

test('logout ends the browser session', async () => {
  const email = uniqueEmail('logout');
  await signUp(email);
  const { page, problems } = await openPage(browser);
  await page.goto(`${SIGIL}/login`);
  assert.equal((await fillLogin(page, email, PASSWORD)).status(), 200);

  await page.goto(`${SIGIL}/logout`);
  await shoot(page, 'logout');
  await checkA11y(page, 'logout');
  await button(page, 'Sign out').click();
  await page.getByText(/signed out/i).first().waitFor();
  await shoot(page, 'signed-out');
  await checkA11y(page, 'signed-out');
  assert.deepEqual(problems, []);

  // Signed out of Sigil: the SPA's next sign-in shows the login form.
  await page.goto(`${SPA}/`);
  await page.locator('#status', { hasText: 'Not signed in' }).waitFor();
  await button(page, 'Sign in').click();
  await page.waitForURL((u) => u.href.startsWith(`${SIGIL}/login`));
  await field(page, 'Email').waitFor();
});

test('an unknown client gets an error page, not a redirect', async () => {
  const { page } = await openPage(browser);
  const q = new URLSearchParams({
    client_id: 'nope', response_type: 'code', redirect_uri: `${SPA}/callback.html`,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  });
  const res = await page.goto(`${SIGIL}/oauth2/authorize?${q}`);
  assert.ok(res.status() >= 400 && res.status() < 500, `status ${res.status()}`);
  assert.match(res.headers()['content-type'] ?? '', /^text\/html/);
  assert.ok(page.url().startsWith(`${SIGIL}/oauth2/authorize`), `redirected to ${page.url()}`);
  await shoot(page, 'error');
  await checkA11y(page, 'error');
});
